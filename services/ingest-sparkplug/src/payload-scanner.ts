import { Long, notPlain, NotPlain, WireReader, WireType } from '@busway/proto';
import type { MetricView, PayloadView } from './payload-view.js';

const { Varint, I64, Len, I32 } = WireType;
/** Wire type of each Metric field this scanner reads, by number (sparkplug_b.proto); others are not plain. */
const METRIC_WIRE_TYPES = [-1, Len, Varint, Varint, Varint, Varint, Varint, Varint, -1, -1];
const VALUE_WIRE_TYPES: Record<number, number> = {
  10: Varint,
  11: Varint,
  12: I32,
  13: I64,
  14: Varint,
  15: Len,
};

/**
 * Reads a Sparkplug B payload of scalar metrics (what NDATA and DDATA carry) into plain objects, without the
 * generated decoder's class instances, Long objects and oneof bookkeeping. A metric field this scanner does
 * not read (metadata, properties, DataSet, Template, bytes, extensions), a compressed payload, a field twice,
 * two values, a wire type the schema does not give, a non-ASCII string or anything malformed returns
 * undefined: the generated decoder reads that payload (and throws on what is malformed). 64-bit integers
 * other than `long_value` come as numbers, as the bridge reads them.
 */
export class PayloadScanner extends WireReader {
  scan(data: Uint8Array): PayloadView | undefined {
    this.reset(data);
    try {
      return this.payload();
    } catch (err) {
      if (err instanceof NotPlain) return undefined;
      throw err;
    }
  }

  private payload(): PayloadView {
    const metrics: MetricView[] = [];
    // absent, they read 0 as the generated decoder's defaults do
    const out: PayloadView = { metrics, timestamp: 0, seq: 0 };
    let seen = 0;
    while (this.pos < this.buf.length) {
      const tag = this.varint32();
      const number = tag >>> 3;
      if (number === 2 && (tag & 7) === Len) {
        const end = this.length() + this.pos;
        metrics.push(this.metric(end));
        continue;
      }
      // timestamp (1) and seq (3), each once; uuid and body (a compressed payload) and the rest are not plain
      if ((number !== 1 && number !== 3) || (tag & 7) !== Varint || seen & (1 << number)) throw notPlain;
      seen |= 1 << number;
      if (number === 1) out.timestamp = this.uint64Number();
      else out.seq = this.uint64Number();
    }
    return out;
  }

  private metric(end: number): MetricView {
    const m: MetricView = {};
    let seen = 0;
    let valued = false;
    while (this.pos < end) {
      const tag = this.varint32();
      const number = tag >>> 3;
      const wireType = tag & 7;
      if (seen & (1 << number)) throw notPlain; // a field twice: the last wins there; rare enough to leave
      seen |= 1 << number;
      if (number >= 10 && number <= 15) {
        if (valued || VALUE_WIRE_TYPES[number] !== wireType) throw notPlain;
        valued = true;
        this.value(m, number);
        continue;
      }
      if (number >= METRIC_WIRE_TYPES.length || METRIC_WIRE_TYPES[number] !== wireType) throw notPlain;
      if (number === 1) m.name = this.ascii();
      else if (number === 2) m.alias = this.uint64Number();
      else if (number === 3) m.timestamp = this.uint64Number();
      else if (number === 4) m.datatype = this.varint32();
      else if (number === 5) m.isHistorical = this.bool();
      else if (number === 6) m.isTransient = this.bool();
      else m.isNull = this.bool();
    }
    if (this.pos !== end) throw notPlain;
    return m;
  }

  private value(m: MetricView, number: number): void {
    const b = this.buf;
    if (number === 10) m.intValue = this.varint32();
    else if (number === 11) {
      this.varint64();
      m.longValue = Long.fromBits(this.lo, this.hi, true);
    } else if (number === 12) {
      this.advance(4);
      m.floatValue = b.readFloatLE(this.pos - 4);
    } else if (number === 13) {
      this.advance(8);
      m.doubleValue = b.readDoubleLE(this.pos - 8);
    } else if (number === 14) m.booleanValue = this.bool();
    else m.stringValue = this.ascii();
  }

  /** A uint64 as a number, as Long's toNumber gives it (exact below 2^53). */
  private uint64Number(): number {
    this.varint64();
    return this.hi * 2 ** 32 + this.lo;
  }

  /** The generated decoder reads a bool as a uint32 varint other than 0. */
  private bool(): boolean {
    return this.varint32() !== 0;
  }

  private ascii(): string {
    const n = this.asciiString();
    return this.buf.toString('latin1', this.pos - n, this.pos);
  }
}
