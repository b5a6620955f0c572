import { busway, Long, NotPlain, notPlain, ProtoWriter, SlabPool, timeNsFromMs } from '@busway/proto';
import { signedInt, SpType, type MetricDef } from './decoder.js';
import type { NodeState } from './node-state.js';
import { PayloadScanner, Seen, type MetricFields } from './payload-scanner.js';
import { LastValue, ValueKind, type Point } from './points.js';

const { CLOCK_SOURCE_DEVICE, CLOCK_SOURCE_INGEST } = busway.v1.ClockSource;
const { QUALITY_GOOD, QUALITY_BAD } = busway.v1.Quality;
/** A data message's SampleBatch bytes, and what the bridge needs of the payload besides. */
export interface Transcoded {
  data: Buffer;
  samples: number;
  /** Metrics of types that are not telemetry (bytes, files): no sample. */
  skipped: number;
  timestamp: number;
  seq: number;
}

/**
 * Sparkplug NDATA/DDATA bytes straight to SampleBatch bytes: the same bytes `metricsToSamples` and
 * `SampleBatchWriter` make (a property test holds it to them), without a metric or sample object per metric.
 * Each point's id is encoded once; its last value is kept in fields, for a death. A payload the scanner does
 * not read, an alias no birth defined, a DataSet or a Template returns undefined: the generated path takes it
 * (and names what is wrong).
 */
export class SparkplugTranscoder extends PayloadScanner {
  private readonly out: SampleBatchBytes;
  /** Points given a value by the message being read: their `next` becomes `last` once it is all read. */
  private readonly touched: Point[] = [];
  private readonly scratch = new LastValue();

  /** `slabs`: where the batches it writes are kept, to give back once stored. */
  constructor(slabs = new SlabPool()) {
    super();
    this.out = new SampleBatchBytes(slabs);
  }

  transcode(
    data: Uint8Array,
    dev: NodeState,
    ingestTimeNs: Long,
    /** The batch's source field, written after the samples. */
    sourceField: Uint8Array,
  ): Transcoded | undefined {
    this.reset(data);
    this.touched.length = 0;
    try {
      this.readTop();
      this.out.open(ingestTimeNs);
      let samples = 0;
      let skipped = 0;
      let index = 0;
      for (let end = this.nextMetric(); end >= 0; end = this.nextMetric()) {
        const written = this.writeMetric(this.readMetric(end), index++, dev);
        if (written === 1) samples++;
        else if (written === 0) skipped++;
      }
      for (const p of this.touched) p.last.copy(p.next);
      return {
        data: this.out.finish(sourceField),
        samples,
        skipped,
        timestamp: this.timestamp,
        seq: this.seq,
      };
    } catch (err) {
      if (err instanceof NotPlain) return undefined;
      throw err;
    }
  }

  /** Writes one metric's sample: 1 written, 0 skipped (not telemetry), -1 not a sample (bdSeq, controls). */
  private writeMetric(f: MetricFields, index: number, dev: NodeState): number {
    let point: Point;
    let def: MetricDef | undefined;
    if (f.seen & Seen.Name && f.nameEnd > f.nameStart) {
      let at = dev.points.positioned(index);
      if (at === undefined || !this.nameIs(at.point.nameBytes, f)) {
        const name = this.nameOf(f);
        at = { point: dev.points.get(name), def: dev.byName.get(name) };
        dev.points.position(index, at);
      }
      point = at.point;
      def = at.def;
    } else {
      def = dev.byAlias.get(f.seen & Seen.Alias ? f.alias : 0);
      if (!def) throw notPlain; // the generated path refuses it, naming the alias, and asks for a rebirth
      point = dev.points.get(def.name);
    }
    if (point.control) return -1;
    const unit = def?.unit ?? '';
    const datatype = (f.seen & Seen.Datatype && f.datatype) || (def?.datatype ?? 0);
    if (datatype === SpType.DataSet || datatype === SpType.Template) throw notPlain;
    const v = this.scratch;
    v.unit = unit;
    if (f.seen & Seen.IsNull && f.isNull) v.kind = ValueKind.Null;
    else if (!readValue(f, datatype, v)) return 0;
    const timeMs = (f.seen & Seen.Timestamp && f.timestamp) || this.timestamp;
    v.clock = timeMs ? CLOCK_SOURCE_DEVICE : CLOCK_SOURCE_INGEST;
    this.out.sample(
      point,
      v,
      timeMs,
      !!(f.seen & Seen.Historical && f.isHistorical),
      !!(f.seen & Seen.Transient && f.isTransient),
    );
    point.next.copy(v);
    this.touched.push(point);
    return 1;
  }

  /** Whether the metric's name is these ASCII bytes (so ASCII itself, unchecked until now). */
  private nameIs(bytes: Buffer | undefined, f: MetricFields): boolean {
    const n = f.nameEnd - f.nameStart;
    if (bytes === undefined || bytes.length !== n) return false;
    const b = this.buf;
    const at = f.nameStart;
    for (let i = 0; i < n; i++) if (b[at + i] !== bytes[i]) return false;
    return true;
  }
}

/** The sample value of a metric by its datatype, as `setValue` reads it; false for types that are not telemetry. */
function readValue(f: MetricFields, datatype: number, v: LastValue): boolean {
  switch (datatype) {
    case SpType.Float:
    case SpType.Double:
      v.kind = ValueKind.Double;
      v.num = f.value === 12 || f.value === 13 ? f.num : 0;
      return true;
    case SpType.Int8:
    case SpType.Int16:
    case SpType.Int32:
    case SpType.UInt8:
    case SpType.UInt16: {
      const n = signedInt(f.value === 10 ? f.int : 0, datatype);
      v.kind = ValueKind.Int;
      v.lo = n | 0;
      v.hi = n < 0 ? -1 : 0;
      return true;
    }
    case SpType.UInt32:
      v.kind = ValueKind.Int;
      v.lo = f.value === 11 ? f.lo : f.value === 10 ? f.int | 0 : 0;
      v.hi = f.value === 11 ? f.hi | 0 : 0;
      return true;
    case SpType.Int64:
    case SpType.UInt64:
    case SpType.DateTime:
      v.kind = ValueKind.Int;
      v.lo = f.value === 11 ? f.lo : 0;
      v.hi = f.value === 11 ? f.hi | 0 : 0;
      return true;
    case SpType.Boolean:
      v.kind = ValueKind.Bool;
      v.bool = f.value === 14 ? f.bool : false;
      return true;
    case SpType.String:
    case SpType.Text:
    case SpType.UUID:
      v.kind = ValueKind.String;
      v.str = f.value === 15 ? f.str : '';
      return true;
    default:
      return false;
  }
}

/** SampleBatch bytes for bridge samples, in the generated encoder's field order and rules. */
class SampleBatchBytes extends ProtoWriter {
  private ingestLo = 0;
  private ingestHi = 0;
  /** The halves of the last metric time's nanoseconds and sequence, made once per distinct time. */
  private ms = Number.NaN;
  private nsLo = 0;
  private nsHi = 0;
  private seqLo = 0;
  private seqHi = 0;

  open(ingestTimeNs: Long): void {
    this.begin();
    this.ingestLo = ingestTimeNs.low;
    this.ingestHi = ingestTimeNs.high;
  }

  sample(p: Point, v: LastValue, timeMs: number, historical: boolean, transient: boolean): void {
    if (timeMs !== this.ms) this.at(timeMs);
    this.tag(0x0a);
    const lengthAt = this.keepLength(1); // a bridge sample is mostly under 128 bytes
    this.raw(p.idField);
    if (v.kind === ValueKind.Double) this.doubleField(0x21, v.num);
    else if (v.kind === ValueKind.Int) this.sint64Bits(0x28, v.lo, v.hi);
    else if (v.kind === ValueKind.Bool) this.small(0x30, v.bool ? 1 : 0);
    else if (v.kind === ValueKind.String) this.string(0x3a, v.str);
    if (v.unit !== '') this.string(0x42, v.unit);
    if (timeMs) this.fixed64Bits(0x49, this.nsLo, this.nsHi);
    this.uint32(0x50, v.clock);
    this.fixed64Bits(0x61, this.ingestLo, this.ingestHi);
    this.uint32(0x68, v.kind === ValueKind.Null ? QUALITY_BAD : QUALITY_GOOD);
    if (v.kind === ValueKind.Null) this.nullSequence();
    else if (this.seqLo !== 0 || this.seqHi !== 0) this.varint64(0x78, this.seqLo >>> 0, this.seqHi >>> 0);
    if (historical) this.string(0x018a, 'historical');
    if (transient) this.string(0x018a, 'transient');
    if (v.kind === ValueKind.Null) this.string(0x018a, 'null');
    this.closeLength(lengthAt, 1);
  }

  /** A null's sequence is its time in ns, as `metricsToSamples` gives it: apart from any value's (in ms). */
  private nullSequence(): void {
    if (this.nsLo !== 0 || this.nsHi !== 0) this.varint64(0x78, this.nsLo >>> 0, this.nsHi >>> 0);
  }

  finish(sourceField: Uint8Array): Buffer {
    this.raw(sourceField);
    return this.written();
  }

  private at(timeMs: number): void {
    this.ms = timeMs;
    const ns = timeMs ? timeNsFromMs(timeMs) : Long.UZERO;
    const seq = Long.fromNumber(timeMs, true);
    this.nsLo = ns.low;
    this.nsHi = ns.high;
    this.seqLo = seq.low;
    this.seqHi = seq.high;
  }
}
