import Long from 'long';
import { busway } from '../gen/busway.js';
import { ProtoWriter } from './proto-writer.js';
import { NotPlain, notPlain } from './wire-reader.js';

type ISample = busway.v1.ISample;

/**
 * Encodes SampleBatches to the same bytes as the generated encoder, without its per-field writer operations
 * (an object per field, then a copy): each sample is written straight into one buffer, ASCII strings a
 * character at a time, and a length is written once what it covers is (moved if it needs more than the bytes
 * kept for it). A sample with unknown fields or values of unusual types is encoded by the generated encoder
 * and copied in. Bridges encode one batch per source message and the correlator one per rack and slot, so this
 * is on their hot paths.
 */
export class SampleBatchWriter extends ProtoWriter {
  encode(batch: busway.v1.ISampleBatch): Uint8Array {
    if (batch.$unknowns != null) return busway.v1.SampleBatch.encode(batch).finish();
    this.begin();
    for (const s of batch.samples ?? []) this.sample(s);
    if (batch.source != null && Object.hasOwn(batch, 'source')) {
      this.bytesField(0x12, busway.v1.SourceRef.encode(batch.source).finish());
    }
    return this.written();
  }

  private sample(s: ISample): void {
    const start = this.pos;
    try {
      this.plainSample(s);
    } catch (err) {
      if (!(err instanceof NotPlain)) throw err;
      this.pos = start;
      this.bytesField(0x0a, busway.v1.Sample.encode(s).finish());
    }
  }

  /** The sample's fields in field-number order, with the generated encoder's rules for what is written. */
  private plainSample(s: ISample): void {
    if (s.$unknowns != null) throw notPlain;
    const proto = Object.getPrototypeOf(s);
    if (proto !== Object.prototype && proto !== busway.v1.Sample.prototype) throw notPlain;
    this.tag(0x0a);
    const lengthAt = this.keepLength(2); // up to 16 KiB without a move
    if (s.pointId != null && s.pointId !== '') this.string(0x0a, s.pointId);
    if (s.path != null) this.path(s.path);
    if (s.metric != null && s.metric !== '') this.string(0x1a, s.metric);
    if (s.doubleValue != null) this.double(0x21, s.doubleValue);
    if (s.intValue != null) {
      const [lo, hi] = bitsOf(s.intValue);
      this.sint64Bits(0x28, lo, hi);
    }
    if (s.boolValue != null) this.small(0x30, s.boolValue ? 1 : 0);
    if (s.stringValue != null) this.string(0x3a, s.stringValue);
    if (s.unit != null && s.unit !== '') this.string(0x42, s.unit);
    if (s.eventTimeNs != null) this.fixed64(0x49, s.eventTimeNs);
    if (s.clockSource != null && s.clockSource !== 0) this.uint(0x50, s.clockSource, 0x7fffffff);
    if (s.clockQuality != null && s.clockQuality !== 0) this.uint(0x58, s.clockQuality, 0xffffffff);
    if (s.ingestTimeNs != null) this.fixed64(0x61, s.ingestTimeNs);
    if (s.quality != null && s.quality !== 0) this.uint(0x68, s.quality, 0x7fffffff);
    if (s.source != null) this.source(s.source);
    if (s.sequence != null) {
      const [lo, hi] = bitsOf(s.sequence);
      if (lo !== 0 || hi !== 0) this.varint64(0x78, lo >>> 0, hi >>> 0);
    }
    if (s.unregistered != null && s.unregistered !== false) this.small(0x0180, s.unregistered ? 1 : 0);
    if (s.flags != null && s.flags.length) {
      if (!Array.isArray(s.flags)) throw notPlain;
      for (const flag of s.flags) this.string(0x018a, flag);
    }
    this.closeLength(lengthAt, 2);
  }

  /** UnsPath: its string fields by name (a keyed loop reads them megamorphically, at a third of the cost). */
  private path(m: unknown): void {
    const p = this.openMessage(0x12, m, busway.v1.UnsPath.prototype) as busway.v1.IUnsPath;
    const at = this.keepLength(1);
    if (p.site != null && p.site !== '') this.string(0x0a, p.site);
    if (p.hall != null && p.hall !== '') this.string(0x12, p.hall);
    if (p.row != null && p.row !== '') this.string(0x1a, p.row);
    if (p.rack != null && p.rack !== '') this.string(0x22, p.rack);
    if (p.assetClass != null && p.assetClass !== '') this.string(0x2a, p.assetClass);
    if (p.asset != null && p.asset !== '') this.string(0x32, p.asset);
    this.closeLength(at, 1);
  }

  private source(m: unknown): void {
    const r = this.openMessage(0x72, m, busway.v1.SourceRef.prototype) as busway.v1.ISourceRef;
    const at = this.keepLength(1);
    if (r.protocol != null && r.protocol !== '') this.string(0x0a, r.protocol);
    if (r.address != null && r.address !== '') this.string(0x12, r.address);
    if (r.sourceId != null && r.sourceId !== '') this.string(0x1a, r.sourceId);
    this.closeLength(at, 1);
  }

  /** A nested message's tag, once it is known to be plain: an object literal or its generated class. */
  private openMessage(tag: number, m: unknown, proto: object): object {
    if (typeof m !== 'object' || m === null) throw notPlain;
    const p = Object.getPrototypeOf(m);
    if ((p !== Object.prototype && p !== proto) || (m as { $unknowns?: unknown }).$unknowns != null)
      throw notPlain;
    this.tag(tag);
    return m;
  }

  private double(tag: number, value: unknown): void {
    if (typeof value !== 'number') throw notPlain;
    this.doubleField(tag, value);
  }

  private fixed64(tag: number, value: unknown): void {
    const [lo, hi] = bitsOf(value);
    this.fixed64Bits(tag, lo, hi);
  }

  /** An enum or uint32 in its plain range (a negative enum takes ten bytes: the generated encoder writes it). */
  private uint(tag: number, value: unknown, max: number): void {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) throw notPlain;
    this.uint32(tag, value);
  }
}

/** The two 32-bit halves of a 64-bit field given as a Long or a safe integer; anything else is not plain. */
function bitsOf(value: unknown): [number, number] {
  if (Long.isLong(value)) return [value.low, value.high];
  if (typeof value === 'number' && Number.isSafeInteger(value)) {
    const l = Long.fromNumber(value);
    return [l.low, l.high];
  }
  throw notPlain;
}
