import { busway, Long } from '@busway/proto';
import type { DeadbandBatch } from './deadband.js';
import type { NormalizedBatch } from './normalize-batch.js';
import type { SampleNormalizer } from './normalize.js';
import { FieldArena, fieldsOf, type KindPlan, type Plans, type SubjectPlan, type UnitPlan } from './plans.js';
import { BOOL, DOUBLE, INT, RawSample, STRING, canonicalSource } from './raw-sample.js';
import {
  copyBytes,
  isAscii,
  varint64Size,
  varintSize,
  viewOf,
  WireReader,
  writeFixed64,
  writeVarint32,
  writeVarint64,
} from './wire.js';

const PTP = busway.v1.ClockSource.CLOCK_SOURCE_PTP;
const INGEST = busway.v1.ClockSource.CLOCK_SOURCE_INGEST;
const UNCERTAIN = busway.v1.Quality.QUALITY_UNCERTAIN;

/** The flags the time rules add, encoded (field 17): [start, end) in FLAGS per flag. */
const FLAGS = new FieldArena();
const NO_SOURCE_TIME = 1;
const CLOCK_SKEW = 2;
const flagField = [0, 0];
for (const f of ['no-source-time', 'clock-skew']) {
  const field = fieldsOf({ flags: [f] });
  const start = FLAGS.append(field);
  flagField.push(start, start + field.length);
}

/** Marks the subjects seen by the message in hand; global, so two instances sharing plans never mix them up. */
let stamps = 0;

// What pass one keeps of each sample for pass two, as int32 columns of one row per sample.
const PID_START = 0;
const PID_END = 1;
const VKIND = 2;
const INT_LO = 3;
const INT_HI = 4;
const BOOL_V = 5;
const STR_START = 6;
const STR_END = 7;
const UNIT_START = 8;
const UNIT_END = 9;
const EV_LO = 10;
const EV_HI = 11;
const CLOCK_SOURCE = 12;
const CLOCK_QUALITY = 13;
const ING_LO = 14;
const ING_HI = 15;
const QUALITY = 16;
const SRC_START = 17;
const SRC_END = 18;
const SEQ_LO = 19;
const SEQ_HI = 20;
const FLAGS_START = 21;
const FLAGS_END = 22;
const FLAG = 23;
const PATH_START = 24;
const PATH_END = 25;
const METRIC_START = 26;
const METRIC_END = 27;
const SIZE = 28;
const NEXT = 29;
const STRIDE = 32;
// ...and as float64 columns
const VALUE = 0;
const TIME_MS = 1;
const BAND = 2;
const FSTRIDE = 4;

/**
 * The normalizer's hot path: reads a raw SampleBatch off the wire and writes the normalized batches directly,
 * without a JavaScript object per sample, a Long per time or a string per field. Pass one reads and normalizes
 * every sample into a table of numbers (positions of what is copied, values of what is rewritten) and works
 * out its encoded size; pass two applies the deadbands in order, lays the samples out by subject in one
 * buffer and writes each straight to its place. Its output is byte for byte what the generated decoder,
 * `SampleNormalizer` and the generated encoder produce (the property tests hold it to that). It takes the
 * common case only: registered points, accepted units, canonical encoding, ASCII text. For anything else it
 * returns undefined and the caller runs the object path, which handles every case.
 */
export class FastBatchNormalizer {
  private readonly r = new WireReader();
  private readonly f = new RawSample();
  private rows = new Int32Array(256 * STRIDE);
  private values = new Float64Array(256 * FSTRIDE);
  private subjects: SubjectPlan[] = [];
  private bandIds: (string | undefined)[] = [];
  private sampleStart = new Int32Array(256);
  private sampleEnd = new Int32Array(256);
  /** Row of the previous sample of the message (-1 before the first). */
  private row = -1;
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
        if (n === this.sampleStart.length) this.grow();
        this.sampleStart[n] = r.pos;
        this.sampleEnd[n++] = r.pos + len;
      } else {
        if (srcStart >= 0 || !canonicalSource(data, r.pos, r.pos + len)) return undefined;
        srcStart = r.pos;
        srcEnd = r.pos + len;
      }
      r.pos += len;
    }
    const input = viewOf(data);
    const plans = this.normalizer.plans;
    this.row = -1;
    for (let i = 0; i < n; i++) {
      const start = this.sampleStart[i] as number;
      const end = this.sampleEnd[i] as number;
      if (!this.f.read(r, data, input, start, end) || !this.plan(plans, data, i, srcStart, srcEnd)) {
        for (let k = 0; k <= i; k++) this.bandIds[k] = undefined;
        return undefined;
      }
    }
    return this.write(plans, data, input, n, srcStart, srcEnd, reporting);
  }

  /** Normalizes the sample just read into row `i`; false when it needs the object path. */
  private plan(
    plans: Plans,
    data: Uint8Array,
    i: number,
    batchSrcStart: number,
    batchSrcEnd: number,
  ): boolean {
    const f = this.f;
    if (f.pidEnd === f.pidStart) return false; // no point id: a dead letter
    const registry = plans.registry;
    const row = plans.rowAfter(this.row, data, f.pidStart, f.pidEnd);
    this.row = row;
    const asset = row < 0 ? -1 : registry.assetOfRow(row);
    const subject = plans.subject(asset);
    if (!subject) return false; // unregistered: the object path derives its path
    // matched bytes are a registered id, so valid UTF-8; ASCII as well keeps clear of the decoder's BOM rule
    if (!registry.asciiPointIds && !isAscii(data, f.pidStart, f.pidEnd)) return false;
    const kind = plans.kind(registry.kindOfRow(row));
    const unit = this.unitOf(plans, kind, data);
    if (!unit) return false;

    const o = i * STRIDE;
    const rows = this.rows;
    const values = this.values;
    let valueKind = f.valueKind;
    let value = f.double;
    rows[o + UNIT_START] = unit.plainStart;
    rows[o + UNIT_END] = unit.plainEnd;
    if ((valueKind === DOUBLE || valueKind === INT) && kind.converts) {
      const c = unit.conv;
      if (c === null) return false; // a unit mismatch: dead-lettered by the object path
      const raw = valueKind === DOUBLE ? value : zigzagToNumber(f.intLo, f.intHi);
      value = raw * kind.scale * c.scale + c.offset;
      valueKind = DOUBLE;
      rows[o + UNIT_START] = unit.convertedStart;
      rows[o + UNIT_END] = unit.convertedEnd;
    }
    this.timeRules(o);
    const fo = i * FSTRIDE;
    values[fo + VALUE] = value;
    values[fo + TIME_MS] = msOf(rows[o + EV_LO] as number, rows[o + EV_HI] as number);
    this.bandIds[i] =
      kind.deadband !== undefined && valueKind === DOUBLE ? registry.pointIdOfRow(row) : undefined;
    values[fo + BAND] = kind.deadband ?? 0;
    this.subjects[i] = subject;

    rows[o + PID_START] = f.pidStart;
    rows[o + PID_END] = f.pidEnd;
    rows[o + VKIND] = valueKind;
    rows[o + INT_LO] = f.intLo;
    rows[o + INT_HI] = f.intHi;
    rows[o + BOOL_V] = f.bool ? 1 : 0;
    rows[o + STR_START] = f.strStart;
    rows[o + STR_END] = f.strEnd;
    rows[o + CLOCK_QUALITY] = f.clockQuality;
    rows[o + ING_LO] = f.ingLo;
    rows[o + ING_HI] = f.ingHi;
    rows[o + SRC_START] = f.srcStart >= 0 ? f.srcStart : batchSrcStart;
    rows[o + SRC_END] = f.srcStart >= 0 ? f.srcEnd : batchSrcEnd;
    rows[o + SEQ_LO] = f.seqLo;
    rows[o + SEQ_HI] = f.seqHi;
    rows[o + FLAGS_START] = f.flagsStart;
    rows[o + FLAGS_END] = f.flagsEnd;
    rows[o + PATH_START] = plans.pathStart(asset);
    rows[o + PATH_END] = plans.pathEnd(asset);
    rows[o + METRIC_START] = kind.metricStart;
    rows[o + METRIC_END] = kind.metricEnd;
    rows[o + SIZE] = this.sizeOf(o);
    return true;
  }

  /** The unit plan of the sample's unit (or the registry's when it has none); undefined for the object path. */
  private unitOf(plans: Plans, kind: KindPlan, data: Uint8Array): UnitPlan | undefined {
    const f = this.f;
    if (f.unitEnd === f.unitStart) {
      const u = plans.unitPlan(kind, kind.registryUnit);
      return u.plainStart < 0 ? undefined : u;
    }
    const known = plans.unitPlanOfBytes(kind, data, f.unitStart, f.unitEnd);
    if (known || !isAscii(data, f.unitStart, f.unitEnd)) return known;
    return plans.rememberUnit(
      kind,
      Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1', f.unitStart, f.unitEnd),
    );
  }

  /** time-rules.ts, on the two halves of each time, into row `o`. */
  private timeRules(o: number): void {
    const f = this.f;
    const rows = this.rows;
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
      const skewNs = this.normalizer.rules.maxFutureSkewMs * 1e6;
      if (hasIngest && (evHi | 0) * 4294967296 + evLo > (f.ingHi | 0) * 4294967296 + f.ingLo + skewNs) {
        flag = CLOCK_SKEW;
        quality = UNCERTAIN;
        evLo = f.ingLo;
        evHi = f.ingHi;
      }
    }
    rows[o + EV_LO] = evLo;
    rows[o + EV_HI] = evHi;
    rows[o + CLOCK_SOURCE] = clockSource;
    rows[o + QUALITY] = quality;
    rows[o + FLAG] = flag;
  }

  /** The encoded size of row `o`'s sample: the fields the generated encoder would write for it. */
  private sizeOf(o: number): number {
    const w = this.rows;
    const u = (k: number) => (w[o + k] as number) >>> 0;
    const pid = u(PID_END) - u(PID_START);
    let size = 1 + varintSize(pid) + pid + u(PATH_END) - u(PATH_START) + u(METRIC_END) - u(METRIC_START);
    const kind = w[o + VKIND] as number;
    if (kind === DOUBLE) size += 9;
    else if (kind === INT) size += 1 + varint64Size(u(INT_LO), u(INT_HI));
    else if (kind === BOOL) size += 2;
    else if (kind === STRING) size += 1 + varintSize(u(STR_END) - u(STR_START)) + u(STR_END) - u(STR_START);
    size += u(UNIT_END) - u(UNIT_START);
    if ((u(EV_LO) | u(EV_HI)) !== 0) size += 9;
    if (u(CLOCK_SOURCE) !== 0) size += 1 + varintSize(u(CLOCK_SOURCE));
    if (u(CLOCK_QUALITY) !== 0) size += 1 + varintSize(u(CLOCK_QUALITY));
    if ((u(ING_LO) | u(ING_HI)) !== 0) size += 9;
    if (u(QUALITY) !== 0) size += 1 + varintSize(u(QUALITY));
    const src = (w[o + SRC_START] as number) >= 0 ? u(SRC_END) - u(SRC_START) : -1;
    if (src >= 0) size += 1 + varintSize(src) + src;
    if ((u(SEQ_LO) | u(SEQ_HI)) !== 0) size += 1 + varint64Size(u(SEQ_LO), u(SEQ_HI));
    size += u(FLAGS_END) - u(FLAGS_START);
    const flag = w[o + FLAG] as number;
    if (flag !== 0) size += (flagField[flag * 2 + 1] as number) - (flagField[flag * 2] as number);
    return size;
  }

  /** Pass two: deadbands in sample order, then one buffer with a SampleBatch per subject, in order of first sample. */
  private write(
    plans: Plans,
    data: Uint8Array,
    input: DataView,
    n: number,
    srcStart: number,
    srcEnd: number,
    reporting: DeadbandBatch,
  ): NormalizedBatch {
    const rows = this.rows;
    const values = this.values;
    const stamp = ++stamps;
    const groups: SubjectPlan[] = [];
    const heads: number[] = [];
    const tails: number[] = [];
    const counts: number[] = [];
    const bytes: number[] = [];
    const srcField = srcStart >= 0 ? 1 + varintSize(srcEnd - srcStart) + (srcEnd - srcStart) : 0;
    let suppressed = 0;
    for (let i = 0; i < n; i++) {
      const o = i * STRIDE;
      const fo = i * FSTRIDE;
      const pointId = this.bandIds[i];
      if (pointId !== undefined) {
        this.bandIds[i] = undefined; // no point id outlives its message
        const quality = rows[o + QUALITY] as number;
        const v = values[fo + VALUE] as number;
        if (
          !reporting.keepValue(
            pointId,
            v,
            quality,
            values[fo + TIME_MS] as number,
            values[fo + BAND] as number,
          )
        ) {
          suppressed++;
          continue;
        }
      }
      const sp = this.subjects[i] as SubjectPlan;
      if (sp.stamp !== stamp) {
        sp.stamp = stamp;
        sp.group = groups.length;
        groups.push(sp);
        heads.push(i);
        tails.push(i);
        counts.push(0);
        bytes.push(srcField);
      } else rows[(tails[sp.group] as number) * STRIDE + NEXT] = i;
      tails[sp.group] = i;
      rows[o + NEXT] = -1;
      counts[sp.group] = (counts[sp.group] as number) + 1;
      const size = rows[o + SIZE] as number;
      bytes[sp.group] = (bytes[sp.group] as number) + 1 + varintSize(size) + size;
    }
    let total = 0;
    for (const b of bytes) total += b;
    const buf = Buffer.allocUnsafe(total);
    const view = viewOf(buf);
    const fields = plans.fields;
    const out: NormalizedBatch['out'] = [];
    let p = 0;
    for (let g = 0; g < groups.length; g++) {
      const begin = p;
      for (let i = heads[g] as number; i >= 0; i = rows[i * STRIDE + NEXT] as number)
        p = this.writeSample(buf, view, p, i, data, input, fields);
      if (srcStart >= 0) {
        buf[p++] = 0x12;
        p = writeVarint32(buf, p, srcEnd - srcStart);
        p = copyBytes(buf, view, p, data, input, srcStart, srcEnd);
      }
      const subject = (groups[g] as SubjectPlan).subject;
      out.push({ subject, data: buf.subarray(begin, p), count: counts[g] as number });
    }
    if (p !== total) throw new Error(`normalizer fast path wrote ${p} bytes of ${total}`); // a bug, never input
    return { out, rejected: [], suppressed };
  }

  /** Writes sample `i` (field 1 of the batch, then its fields in field-number order) at `p`; the end. */
  private writeSample(
    out: Buffer,
    view: DataView,
    p: number,
    i: number,
    data: Uint8Array,
    input: DataView,
    fields: FieldArena,
  ): number {
    const w = this.rows;
    const o = i * STRIDE;
    const u = (k: number) => (w[o + k] as number) >>> 0;
    out[p++] = 0x0a;
    p = writeVarint32(out, p, w[o + SIZE] as number);
    const pidStart = u(PID_START);
    const pidEnd = u(PID_END);
    out[p++] = 0x0a;
    p = writeVarint32(out, p, pidEnd - pidStart);
    p = copyBytes(out, view, p, data, input, pidStart, pidEnd);
    p = copyBytes(out, view, p, fields.bytes, fields.view, u(PATH_START), u(PATH_END));
    p = copyBytes(out, view, p, fields.bytes, fields.view, u(METRIC_START), u(METRIC_END));
    const kind = w[o + VKIND] as number;
    if (kind === DOUBLE) {
      out[p++] = 0x21;
      view.setFloat64(p, this.values[i * FSTRIDE + VALUE] as number, true);
      p += 8;
    } else if (kind === INT) {
      out[p++] = 0x28;
      p = writeVarint64(out, p, u(INT_LO), u(INT_HI));
    } else if (kind === BOOL) {
      out[p++] = 0x30;
      out[p++] = w[o + BOOL_V] as number;
    } else if (kind === STRING) {
      out[p++] = 0x3a;
      p = writeVarint32(out, p, u(STR_END) - u(STR_START));
      p = copyBytes(out, view, p, data, input, u(STR_START), u(STR_END));
    }
    p = copyBytes(out, view, p, fields.bytes, fields.view, u(UNIT_START), u(UNIT_END));
    if ((u(EV_LO) | u(EV_HI)) !== 0) {
      out[p++] = 0x49;
      p = writeFixed64(out, p, u(EV_LO), u(EV_HI));
    }
    if (u(CLOCK_SOURCE) !== 0) {
      out[p++] = 0x50;
      p = writeVarint32(out, p, u(CLOCK_SOURCE));
    }
    if (u(CLOCK_QUALITY) !== 0) {
      out[p++] = 0x58;
      p = writeVarint32(out, p, u(CLOCK_QUALITY));
    }
    if ((u(ING_LO) | u(ING_HI)) !== 0) {
      out[p++] = 0x61;
      p = writeFixed64(out, p, u(ING_LO), u(ING_HI));
    }
    if (u(QUALITY) !== 0) {
      out[p++] = 0x68;
      p = writeVarint32(out, p, u(QUALITY));
    }
    if ((w[o + SRC_START] as number) >= 0) {
      out[p++] = 0x72;
      p = writeVarint32(out, p, u(SRC_END) - u(SRC_START));
      p = copyBytes(out, view, p, data, input, u(SRC_START), u(SRC_END));
    }
    if ((u(SEQ_LO) | u(SEQ_HI)) !== 0) {
      out[p++] = 0x78;
      p = writeVarint64(out, p, u(SEQ_LO), u(SEQ_HI));
    }
    p = copyBytes(out, view, p, data, input, u(FLAGS_START), u(FLAGS_END));
    const flag = w[o + FLAG] as number;
    if (flag !== 0)
      p = copyBytes(
        out,
        view,
        p,
        FLAGS.bytes,
        FLAGS.view,
        flagField[flag * 2] as number,
        flagField[flag * 2 + 1] as number,
      );
    return p;
  }

  private grow(): void {
    const size = this.sampleStart.length * 2;
    const rows = new Int32Array(size * STRIDE);
    rows.set(this.rows);
    this.rows = rows;
    const values = new Float64Array(size * FSTRIDE);
    values.set(this.values);
    this.values = values;
    const starts = new Int32Array(size);
    starts.set(this.sampleStart);
    this.sampleStart = starts;
    const ends = new Int32Array(size);
    ends.set(this.sampleEnd);
    this.sampleEnd = ends;
  }
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
  const l = lo >>> 0;
  const h = hi >>> 0;
  const rest = h * 967_296 + l;
  return h * 4294 + Math.floor(rest / 1_000_000) + (rest % 1_000_000) / 1_000_000;
}
