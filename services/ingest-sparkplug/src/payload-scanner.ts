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

/** MetricFields.seen bits, by Sparkplug Metric field number. */
export const Seen = {
  Name: 1 << 1,
  Alias: 1 << 2,
  Timestamp: 1 << 3,
  Datatype: 1 << 4,
  Historical: 1 << 5,
  Transient: 1 << 6,
  IsNull: 1 << 7,
} as const;

/**
 * One scalar metric's fields as read, reused from metric to metric: a field counts only when its bit (1 << field
 * number) is in `seen`; `value` is the number of the value field read (10-15), 0 for none.
 */
export class MetricFields {
  seen = 0;
  /** Where the name's bytes are in the payload, not yet checked ASCII: `nameOf` checks them and makes the string. */
  nameStart = 0;
  nameEnd = 0;
  alias = 0;
  timestamp = 0;
  datatype = 0;
  isHistorical = false;
  isTransient = false;
  isNull = false;
  value = 0;
  /** int_value (10). */
  int = 0;
  /** long_value (11), unsigned halves. */
  lo = 0;
  hi = 0;
  /** float_value (12) or double_value (13). */
  num = 0;
  bool = false;
  str = '';
}

/**
 * Reads a Sparkplug B payload of scalar metrics (what NDATA and DDATA carry) into plain objects, without the
 * generated decoder's class instances, Long objects and oneof bookkeeping. A metric field this scanner does
 * not read (metadata, properties, DataSet, Template, bytes, extensions), a compressed payload, a field twice,
 * two values, a wire type the schema does not give, a non-ASCII string or anything malformed returns
 * undefined: the generated decoder reads that payload (and throws on what is malformed). 64-bit integers
 * other than `long_value` come as numbers, as the bridge reads them.
 */
export class PayloadScanner extends WireReader {
  private readonly fields = new MetricFields();
  /** The payload's, by `readTop`. */
  protected timestamp = 0;
  protected seq = 0;

  scan(data: Uint8Array): PayloadView | undefined {
    this.reset(data);
    try {
      return this.payload();
    } catch (err) {
      if (err instanceof NotPlain) return undefined;
      throw err;
    }
  }

  /** The payload's timestamp and seq, its metrics skipped; undefined when it is not plain or not protobuf. */
  topOf(data: Uint8Array): { timestamp: number; seq: number } | undefined {
    this.reset(data);
    try {
      this.readTop();
      return { timestamp: this.timestamp, seq: this.seq };
    } catch {
      return undefined; // read in full by the decode stage, which names what is wrong
    }
  }

  private payload(): PayloadView {
    this.readTop();
    const metrics: MetricView[] = [];
    for (let end = this.nextMetric(); end >= 0; end = this.nextMetric()) metrics.push(this.metric(end));
    return { metrics, timestamp: this.timestamp, seq: this.seq };
  }

  /**
   * A first pass over the payload's own fields: its timestamp and seq (0 when absent, as the generated
   * decoder's defaults) whatever their place, each once; uuid and body (a compressed payload) and the rest are
   * not plain. Metrics are skipped; `pos` is back at the start.
   */
  protected readTop(): void {
    this.timestamp = 0;
    this.seq = 0;
    let seen = 0;
    while (this.pos < this.buf.length) {
      const tag = this.varint32();
      const number = tag >>> 3;
      if (number === 2 && (tag & 7) === Len) {
        this.advance(this.length());
        continue;
      }
      if ((number !== 1 && number !== 3) || (tag & 7) !== Varint || seen & (1 << number)) throw notPlain;
      seen |= 1 << number;
      if (number === 1) this.timestamp = this.uint64Number();
      else this.seq = this.uint64Number();
    }
    this.pos = 0;
  }

  /** Where the next metric ends (`pos` at its first field), or -1 past the last; after `readTop`. */
  protected nextMetric(): number {
    while (this.pos < this.buf.length) {
      const tag = this.varint32();
      if (tag === ((2 << 3) | Len)) return this.length() + this.pos;
      this.varint64(); // timestamp or seq: read by readTop
    }
    return -1;
  }

  private metric(end: number): MetricView {
    const f = this.readMetric(end);
    const m: MetricView = {};
    if (f.seen & Seen.Name) m.name = this.nameOf(f);
    if (f.seen & Seen.Alias) m.alias = f.alias;
    if (f.seen & Seen.Timestamp) m.timestamp = f.timestamp;
    if (f.seen & Seen.Datatype) m.datatype = f.datatype;
    if (f.seen & Seen.Historical) m.isHistorical = f.isHistorical;
    if (f.seen & Seen.Transient) m.isTransient = f.isTransient;
    if (f.seen & Seen.IsNull) m.isNull = f.isNull;
    if (f.value === 10) m.intValue = f.int;
    else if (f.value === 11) m.longValue = Long.fromBits(f.lo, f.hi, true);
    else if (f.value === 12) m.floatValue = f.num;
    else if (f.value === 13) m.doubleValue = f.num;
    else if (f.value === 14) m.booleanValue = f.bool;
    else if (f.value === 15) m.stringValue = f.str;
    return m;
  }

  /** Reads one metric, ending at `end`, into the reused `fields`. */
  protected readMetric(end: number): MetricFields {
    const f = this.fields;
    f.seen = 0;
    f.value = 0;
    while (this.pos < end) {
      const tag = this.varint32();
      const number = tag >>> 3;
      const wireType = tag & 7;
      if (f.seen & (1 << number)) throw notPlain; // a field twice: the last wins there; rare enough to leave
      f.seen |= 1 << number;
      if (number >= 10 && number <= 15) {
        if (f.value !== 0 || VALUE_WIRE_TYPES[number] !== wireType) throw notPlain;
        f.value = number;
        this.value(f, number);
        continue;
      }
      if (number >= METRIC_WIRE_TYPES.length || METRIC_WIRE_TYPES[number] !== wireType) throw notPlain;
      if (number === 1) {
        // its bytes are checked ASCII, and its string made, only where it is needed (`nameOf`)
        const n = this.length();
        f.nameStart = this.pos;
        this.pos += n;
        f.nameEnd = this.pos;
      } else if (number === 2) f.alias = this.uint64Number();
      else if (number === 3) f.timestamp = this.uint64Number();
      else if (number === 4) f.datatype = this.varint32();
      else if (number === 5) f.isHistorical = this.bool();
      else if (number === 6) f.isTransient = this.bool();
      else f.isNull = this.bool();
    }
    if (this.pos !== end) throw notPlain;
    return f;
  }

  private value(f: MetricFields, number: number): void {
    const b = this.buf;
    if (number === 10) f.int = this.varint32();
    else if (number === 11) {
      this.varint64();
      f.lo = this.lo;
      f.hi = this.hi;
    } else if (number === 12) {
      this.advance(4);
      f.num = b.readFloatLE(this.pos - 4);
    } else if (number === 13) {
      this.advance(8);
      f.num = b.readDoubleLE(this.pos - 8);
    } else if (number === 14) f.bool = this.bool();
    else f.str = this.ascii();
  }

  /** A uint64 as a number, as Long's toNumber gives it (exact below 2^53). */
  protected uint64Number(): number {
    this.varint64();
    return this.hi * 2 ** 32 + this.lo;
  }

  /** The generated decoder reads a bool as a uint32 varint other than 0. */
  private bool(): boolean {
    return this.varint32() !== 0;
  }

  /** A metric's name, as a string. */
  protected nameOf(f: MetricFields): string {
    if (!this.isAscii(f.nameStart, f.nameEnd)) throw notPlain;
    return this.buf.toString('latin1', f.nameStart, f.nameEnd);
  }
}
