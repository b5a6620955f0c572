import { busway, Long } from '@busway/proto';
import type { DeadbandBatch } from './deadband.js';
import type { NormalizedBatch } from './normalize-batch.js';
import type { SampleNormalizer } from './normalize.js';
import { rememberUnit, unitPlan, unitPlanOfBytes, type SubjectPlan, type UnitPlan } from './plans.js';
import {
  copyBytes,
  isAscii,
  varintSize,
  WireReader,
  writeFixed64,
  writeVarint32,
  writeVarint64,
} from './wire.js';

const PTP = busway.v1.ClockSource.CLOCK_SOURCE_PTP;
const INGEST = busway.v1.ClockSource.CLOCK_SOURCE_INGEST;
const UNCERTAIN = busway.v1.Quality.QUALITY_UNCERTAIN;
/** Flags the time rules add, as encoded field 17. */
const FLAG_FIELDS = [
  new Uint8Array(0),
  busway.v1.Sample.encode({ flags: ['no-source-time'] }).finish(),
  busway.v1.Sample.encode({ flags: ['clock-skew'] }).finish(),
];
const NO_SOURCE_TIME = 1;
const CLOCK_SKEW = 2;
/** Value field kinds, by field number: none, double, sint64, bool, string. */
const NONE = 0;
const DOUBLE = 4;
const INT = 5;
const BOOL = 6;
const STRING = 7;
/** Marks the subjects seen by the message in hand; global, so two instances sharing plans never mix them up. */
let stamps = 0;

/** One raw sample's fields as read off the wire (positions into the message, values decoded). */
class Fields {
  pidStart = 0;
  pidEnd = 0;
  valueKind = NONE;
  double = 0;
  intLo = 0;
  intHi = 0;
  bool = false;
  strStart = 0;
  strEnd = 0;
  unitStart = 0;
  unitEnd = 0;
  evLo = 0;
  evHi = 0;
  clockSource = 0;
  clockQuality = 0;
  ingLo = 0;
  ingHi = 0;
  quality = 0;
  srcStart = -1;
  srcEnd = -1;
  seqLo = 0;
  seqHi = 0;
  flagsStart = 0;
  flagsEnd = 0;
  seen = 0;

  clear(): void {
    this.pidStart = this.pidEnd = this.unitStart = this.unitEnd = this.flagsStart = this.flagsEnd = 0;
    this.valueKind = NONE;
    this.evLo = this.evHi = this.ingLo = this.ingHi = this.seqLo = this.seqHi = 0;
    this.clockSource = this.clockQuality = this.quality = 0;
    this.srcStart = this.srcEnd = -1;
    this.seen = 0;
  }
}

/**
 * The normalizer's hot path: reads a raw SampleBatch off the wire and writes the normalized batches directly,
 * without a JavaScript object per sample, a Long per time or a string per field (only the point id becomes a
 * string, to look it up). Its output is byte for byte what the generated decoder, `SampleNormalizer` and the
 * generated encoder produce (the property tests hold it to that). It takes the common case only: registered
 * points, accepted units, canonical encoding, ASCII strings. For anything else it returns undefined and the
 * caller runs the object path, which handles every case (unregistered points, dead letters, odd encodings).
 */
export class FastBatchNormalizer {
  private readonly r = new WireReader();
  private readonly f = new Fields();
  private staging = new Uint8Array(1 << 16);
  private view = new DataView(this.staging.buffer);
  private input: DataView = new DataView(new ArrayBuffer(0));
  /** Row of the previous sample of the message (-1 before the first). */
  private row = -1;
  /** Per sample of the message: where its encoding sits in `staging`, its subject, its deadband inputs. */
  private start = new Int32Array(1024);
  private length = new Int32Array(1024);
  private next = new Int32Array(1024);
  private subjects: SubjectPlan[] = [];
  private bandPointIds: (string | undefined)[] = [];
  private bandValue = new Float64Array(1024);
  private bandQuality = new Int32Array(1024);
  private bandTimeMs = new Float64Array(1024);
  private band = new Float64Array(1024);
  private sampleStart = new Int32Array(1024);
  private sampleEnd = new Int32Array(1024);
  private readonly taiLo: number;
  private readonly taiHi: number;

  constructor(private readonly normalizer: SampleNormalizer) {
    const tai = Long.fromNumber(normalizer.rules.taiUtcOffsetS * 1e9, true);
    this.taiLo = tai.low >>> 0;
    this.taiHi = tai.high >>> 0;
  }

  /** The normalized batches of one raw message, or undefined when it needs the object path. */
  normalize(data: Uint8Array, reporting: DeadbandBatch): NormalizedBatch | undefined {
    const r = this.r;
    r.reset(data, 0, data.length);
    let n = 0;
    let srcStart = -1;
    let srcEnd = -1;
    while (r.pos < r.end) {
      const tag = r.uint32();
      const len = tag === 0x0a || tag === 0x12 ? r.length() : -1;
      if (len < 0) return undefined;
      if (tag === 0x0a) {
        if (n === this.start.length) this.grow();
        this.sampleStart[n] = r.pos;
        this.sampleEnd[n++] = r.pos + len;
      } else {
        if (srcStart >= 0 || !canonicalSource(data, r.pos, r.pos + len)) return undefined;
        srcStart = r.pos;
        srcEnd = r.pos + len;
      }
      r.pos += len;
    }
    const text = asBuffer(data);
    this.input = new DataView(data.buffer, data.byteOffset, data.byteLength);
    let at = 0;
    this.row = -1;
    for (let i = 0; i < n; i++) {
      const end = this.encodeSample(
        text,
        this.sampleStart[i] as number,
        this.sampleEnd[i] as number,
        i,
        at,
        srcStart,
        srcEnd,
      );
      if (end < 0) return undefined;
      this.start[i] = at;
      this.length[i] = end - at;
      at = end;
    }
    return this.assemble(data, n, srcStart, srcEnd, reporting);
  }

  /** Normalizes sample `i` into `staging` at `at`; the end position, or -1 for the object path. */
  private encodeSample(
    data: Buffer,
    start: number,
    end: number,
    i: number,
    at: number,
    batchSrcStart: number,
    batchSrcEnd: number,
  ): number {
    const f = this.f;
    if (!this.read(data, start, end)) return -1;
    if (f.pidEnd === f.pidStart) return -1;
    const plans = this.normalizer.plans;
    const registry = plans.registry;
    const row = plans.rowAfter(this.row, data, f.pidStart, f.pidEnd);
    this.row = row;
    const asset = row < 0 ? -1 : registry.assetOfRow(row);
    const subject = plans.subject(asset);
    if (!subject) return -1; // unregistered: the object path derives its path
    // matched bytes are a registered id, so valid UTF-8; ASCII as well keeps clear of the decoder's BOM rule
    if (!registry.asciiPointIds && !isAscii(data, f.pidStart, f.pidEnd)) return -1;
    const kind = plans.kind(registry.kindOfRow(row));

    let unit: UnitPlan | undefined;
    const unitLen = f.unitEnd - f.unitStart;
    if (unitLen === 0) unit = unitPlan(kind, kind.registryUnit);
    else {
      unit = unitPlanOfBytes(kind, data, f.unitStart, unitLen);
      if (!unit) {
        if (!isAscii(data, f.unitStart, f.unitEnd)) return -1;
        unit = rememberUnit(kind, data.toString('latin1', f.unitStart, f.unitEnd));
      }
    }
    let valueKind = f.valueKind;
    let value = f.double;
    let unitField = unit.plainField;
    if ((valueKind === DOUBLE || valueKind === INT) && kind.converts) {
      const c = unit.conv;
      if (c === null) return -1; // a unit mismatch: dead-lettered by the object path
      const raw = valueKind === DOUBLE ? value : zigzagToNumber(f.intLo, f.intHi);
      value = raw * kind.scale * c.scale + c.offset;
      valueKind = DOUBLE;
      unitField = unit.convertedField;
    }

    // time rules (time-rules.ts), on the two halves of each time
    let evLo = f.evLo;
    let evHi = f.evHi;
    let clockSource = f.clockSource;
    let quality = f.quality;
    let flag = 0;
    const hasIngest = (f.ingLo | f.ingHi) !== 0;
    if ((evLo | evHi) === 0) {
      if (hasIngest) {
        evLo = f.ingLo;
        evHi = f.ingHi;
      }
      clockSource = INGEST;
      flag = NO_SOURCE_TIME;
    } else {
      if (clockSource === PTP) {
        const lo = evLo - this.taiLo;
        evHi = (evHi - this.taiHi - (lo < 0 ? 1 : 0)) >>> 0;
        evLo = lo >>> 0;
      }
      if (
        hasIngest &&
        (evHi | 0) * 4294967296 + evLo >
          (f.ingHi | 0) * 4294967296 + f.ingLo + this.normalizer.rules.maxFutureSkewMs * 1e6
      ) {
        flag = CLOCK_SKEW;
        quality = UNCERTAIN;
        evLo = f.ingLo;
        evHi = f.ingHi;
      }
    }

    if (kind.deadband !== undefined && valueKind === DOUBLE) {
      this.bandPointIds[i] = registry.pointIdOfRow(row);
      this.bandValue[i] = value;
      this.bandQuality[i] = quality;
      this.bandTimeMs[i] = msOf(evLo, evHi);
      this.band[i] = kind.deadband;
    } else this.bandPointIds[i] = undefined;
    this.subjects[i] = subject;

    // the fields in field-number order, as the generated encoder writes them
    const hasSrc = f.srcStart >= 0;
    const srcLen = hasSrc ? f.srcEnd - f.srcStart : batchSrcEnd - batchSrcStart;
    const pidLen = f.pidEnd - f.pidStart;
    const flagField = FLAG_FIELDS[flag] as Uint8Array;
    const pathStart = plans.pathStart(asset);
    const pathEnd = plans.pathEnd(asset);
    this.ensure(
      at +
        (end - start) +
        (pathEnd - pathStart) +
        kind.metricField.length +
        unitField.length +
        srcLen +
        flagField.length +
        64,
    );
    const out = this.staging;
    let p = at;
    out[p++] = 0x0a;
    p = writeVarint32(out, p, pidLen);
    p = copyBytes(out, p, data, f.pidStart, f.pidEnd);
    p = copyBytes(out, p, plans.pathFields, pathStart, pathEnd);
    p = copyBytes(out, p, kind.metricField, 0, kind.metricField.length);
    if (valueKind === DOUBLE) {
      out[p++] = 0x21;
      this.view.setFloat64(p, value, true);
      p += 8;
    } else if (valueKind === INT) {
      out[p++] = 0x28;
      p = writeVarint64(out, p, f.intLo, f.intHi);
    } else if (valueKind === BOOL) {
      out[p++] = 0x30;
      out[p++] = f.bool ? 1 : 0;
    } else if (valueKind === STRING) {
      out[p++] = 0x3a;
      p = writeVarint32(out, p, f.strEnd - f.strStart);
      p = copyBytes(out, p, data, f.strStart, f.strEnd);
    }
    p = copyBytes(out, p, unitField, 0, unitField.length);
    if ((evLo | evHi) !== 0) {
      out[p++] = 0x49;
      p = writeFixed64(out, p, evLo, evHi);
    }
    if (clockSource !== 0) {
      out[p++] = 0x50;
      p = writeVarint32(out, p, clockSource);
    }
    if (f.clockQuality !== 0) {
      out[p++] = 0x58;
      p = writeVarint32(out, p, f.clockQuality);
    }
    if (hasIngest) {
      out[p++] = 0x61;
      p = writeFixed64(out, p, f.ingLo, f.ingHi);
    }
    if (quality !== 0) {
      out[p++] = 0x68;
      p = writeVarint32(out, p, quality);
    }
    if (hasSrc || batchSrcStart >= 0) {
      out[p++] = 0x72;
      p = writeVarint32(out, p, srcLen);
      p = hasSrc
        ? copyBytes(out, p, data, f.srcStart, f.srcEnd)
        : copyBytes(out, p, data, batchSrcStart, batchSrcEnd);
    }
    if ((f.seqLo | f.seqHi) !== 0) {
      out[p++] = 0x78;
      p = writeVarint64(out, p, f.seqLo, f.seqHi);
    }
    p = copyBytes(out, p, data, f.flagsStart, f.flagsEnd);
    p = copyBytes(out, p, flagField, 0, flagField.length);
    return p;
  }

  /** Reads one sample's fields; false when it is not in the form this path takes. */
  private read(data: Uint8Array, start: number, end: number): boolean {
    const r = this.r;
    const f = this.f;
    f.clear();
    r.reset(data, start, end);
    while (r.pos < end) {
      const tag = r.uint32();
      if (tag < 0) return false;
      const field = tag >>> 3;
      const wire = tag & 7;
      const bit = field < 31 ? 1 << field : 0;
      // a repeated field (merge and last-wins rules) or an unknown one: the generated decoder's business
      if (field !== 17 && (f.seen & bit) !== 0) return false;
      f.seen |= bit;
      switch (field) {
        case 1:
        case 3:
        case 8: {
          if (wire !== 2) return false;
          const len = r.length();
          if (len < 0) return false;
          const s = r.pos;
          r.pos += len;
          if (field === 1) {
            f.pidStart = s;
            f.pidEnd = r.pos;
          } else if (field === 8) {
            f.unitStart = s;
            f.unitEnd = r.pos;
          } else if (!isAscii(data, s, r.pos)) return false; // a metric on a raw sample is replaced, but must decode
          break;
        }
        case 4:
        case 5:
        case 6:
        case 7: {
          if (f.valueKind !== NONE) return false; // two members of the oneof
          f.valueKind = field;
          if (field === 4) {
            if (wire !== 1 || r.pos + 8 > end) return false;
            f.double = this.input.getFloat64(r.pos, true);
            r.pos += 8;
          } else if (field === 5) {
            if (wire !== 0 || !r.varint64()) return false;
            f.intLo = r.lo;
            f.intHi = r.hi;
          } else if (field === 6) {
            if (wire !== 0 || !r.varint64()) return false;
            f.bool = (r.lo | r.hi) !== 0; // any bit set, as the generated decoder reads it
          } else {
            const len = wire === 2 ? r.length() : -1;
            if (len < 0 || !isAscii(data, r.pos, r.pos + len)) return false;
            f.strStart = r.pos;
            f.strEnd = r.pos += len;
          }
          break;
        }
        case 9:
        case 12: {
          if (wire !== 1 || !r.fixed64()) return false;
          if (field === 9) {
            f.evLo = r.lo;
            f.evHi = r.hi;
          } else {
            f.ingLo = r.lo;
            f.ingHi = r.hi;
          }
          break;
        }
        case 10:
        case 13: {
          // enums: only the values a varint byte holds (a negative one takes ten bytes)
          const v = wire === 0 ? r.uint32() : -1;
          if (v < 0 || v > 0x7f) return false;
          if (field === 10) f.clockSource = v;
          else f.quality = v;
          break;
        }
        case 11: {
          const v = wire === 0 ? r.uint32() : -1;
          if (v < 0) return false;
          f.clockQuality = v;
          break;
        }
        case 14: {
          const len = wire === 2 ? r.length() : -1;
          if (len < 0 || !canonicalSource(data, r.pos, r.pos + len)) return false;
          f.srcStart = r.pos;
          f.srcEnd = r.pos += len;
          break;
        }
        case 15: {
          if (wire !== 0 || !r.varint64()) return false;
          f.seqLo = r.lo;
          f.seqHi = r.hi;
          break;
        }
        case 16: {
          if (wire !== 0 || !r.varint64()) return false; // replaced by the normalizer
          break;
        }
        case 17: {
          // flags: copied as they are, so they must be one run of canonical entries
          const s = r.pos - 2;
          if (wire !== 2 || (f.flagsEnd !== 0 && f.flagsEnd !== s)) return false;
          const len = r.length();
          if (len < 0 || !isAscii(data, r.pos, r.pos + len)) return false;
          r.pos += len;
          if (f.flagsEnd === 0) f.flagsStart = s;
          f.flagsEnd = r.pos;
          break;
        }
        default:
          return false; // path (field 2) or unknown fields
      }
    }
    return true;
  }

  /** Deadbands in sample order, then one buffer holding a SampleBatch per subject, in order of first sample. */
  private assemble(
    data: Uint8Array,
    n: number,
    srcStart: number,
    srcEnd: number,
    reporting: DeadbandBatch,
  ): NormalizedBatch {
    const stamp = ++stamps;
    const groups: SubjectPlan[] = [];
    const heads: number[] = [];
    const tails: number[] = [];
    const counts: number[] = [];
    const srcField = srcStart >= 0 ? 1 + varintSize(srcEnd - srcStart) + (srcEnd - srcStart) : 0;
    let total = 0;
    let suppressed = 0;
    for (let i = 0; i < n; i++) {
      const pointId = this.bandPointIds[i];
      if (
        pointId !== undefined &&
        !reporting.keepValue(
          pointId,
          this.bandValue[i] as number,
          this.bandQuality[i] as number,
          this.bandTimeMs[i] as number,
          this.band[i] as number,
        )
      ) {
        suppressed++;
        continue;
      }
      const sp = this.subjects[i] as SubjectPlan;
      if (sp.stamp !== stamp) {
        sp.stamp = stamp;
        sp.group = groups.length;
        groups.push(sp);
        heads.push(i);
        tails.push(i);
        counts.push(0);
        total += srcField;
      } else this.next[tails[sp.group] as number] = i;
      tails[sp.group] = i;
      this.next[i] = -1;
      counts[sp.group] = (counts[sp.group] as number) + 1;
      const len = this.length[i] as number;
      total += 1 + varintSize(len) + len;
    }
    for (let i = 0; i < n; i++) this.bandPointIds[i] = undefined; // no point id outlives its message
    const buf = Buffer.allocUnsafe(total);
    const out: NormalizedBatch['out'] = [];
    let p = 0;
    for (let g = 0; g < groups.length; g++) {
      const begin = p;
      for (let i = heads[g] as number; i >= 0; i = this.next[i] as number) {
        const s = this.start[i] as number;
        const len = this.length[i] as number;
        buf[p++] = 0x0a;
        p = writeVarint32(buf, p, len);
        p = copyBytes(buf, p, this.staging, s, s + len);
      }
      if (srcStart >= 0) {
        buf[p++] = 0x12;
        p = writeVarint32(buf, p, srcEnd - srcStart);
        p = copyBytes(buf, p, data, srcStart, srcEnd);
      }
      out.push({
        subject: (groups[g] as SubjectPlan).subject,
        data: buf.subarray(begin, p),
        count: counts[g] as number,
      });
    }
    if (p !== total) throw new Error(`normalizer fast path wrote ${p} bytes of ${total}`); // a bug, never input
    return { out, rejected: [], suppressed };
  }

  private ensure(bytes: number): void {
    if (bytes <= this.staging.length) return;
    const bigger = new Uint8Array(Math.max(bytes, this.staging.length * 2));
    bigger.set(this.staging);
    this.staging = bigger;
    this.view = new DataView(bigger.buffer);
  }

  private grow(): void {
    const size = this.start.length * 2;
    const grown = <T extends Int32Array | Float64Array>(a: T, make: (n: number) => T): T => {
      const b = make(size);
      b.set(a);
      return b;
    };
    const i32 = (n: number) => new Int32Array(n);
    const f64 = (n: number) => new Float64Array(n);
    this.start = grown(this.start, i32);
    this.length = grown(this.length, i32);
    this.next = grown(this.next, i32);
    this.sampleStart = grown(this.sampleStart, i32);
    this.sampleEnd = grown(this.sampleEnd, i32);
    this.bandQuality = grown(this.bandQuality, i32);
    this.bandValue = grown(this.bandValue, f64);
    this.bandTimeMs = grown(this.bandTimeMs, f64);
    this.band = grown(this.band, f64);
  }
}

/** A Buffer view of the message, for toString('latin1') (NATS hands out Buffers; a plain Uint8Array is wrapped). */
function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** A sint64 as a number, rounded as Number(Long.toString()) rounds it (one correctly rounded addition). */
function zigzagToNumber(lo: number, hi: number): number {
  const mask = -(lo & 1);
  const l = (((lo >>> 1) | (hi << 31)) ^ mask) >>> 0;
  const h = ((hi >>> 1) ^ mask) | 0;
  return h * 4294967296 + l;
}

/** msFromTimeNs (proto/src/time.ts) on the two halves. */
function msOf(lo: number, hi: number): number {
  const rest = hi * 967_296 + lo;
  return hi * 4294 + Math.floor(rest / 1_000_000) + (rest % 1_000_000) / 1_000_000;
}

/**
 * Whether a SourceRef's bytes are exactly what the generated encoder writes for them (fields 1-3 in order, each
 * a non-empty ASCII string with a minimal length): only then is copying them the same as decoding and re-encoding.
 */
function canonicalSource(data: Uint8Array, start: number, end: number): boolean {
  let pos = start;
  let last = 0;
  while (pos < end) {
    const tag = data[pos++] as number;
    const field = tag >>> 3;
    if ((tag & 7) !== 2 || field <= last || field > 3) return false;
    last = field;
    let len = data[pos++] as number;
    if (len >= 0x80) {
      const b2 = data[pos++] as number;
      if (b2 === 0 || b2 >= 0x80) return false;
      len = (len & 0x7f) | (b2 << 7);
    }
    if (len === 0 || pos + len > end || !isAscii(data, pos, pos + len)) return false;
    pos += len;
  }
  return pos === end;
}
