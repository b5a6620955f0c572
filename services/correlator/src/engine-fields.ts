// The fields of a Sample the correlation engine reads, straight from its bytes.
import {
  type busway,
  Long,
  NotPlain,
  notPlain,
  SAMPLE_WIRE_TYPES,
  SampleField,
  WireReader,
  WireType,
} from '@busway/proto';

/** A point read for the first time: no string to compare with (never written to). */
const NOTHING_KNOWN: Readonly<busway.v1.ISample> = Object.freeze({});

/**
 * Reads the fields the engine uses from a Sample's bytes, as the generated decoder would read them; undefined
 * for any other form, such as a nested path that comes twice (the decoder merges the two): the caller decodes.
 */
export class EngineFieldReader extends WireReader {
  /** Per point: the strings its last sample held, compared with the bytes instead of made again. */
  private readonly last = new Map<string, busway.v1.ISample>();
  private known: Readonly<busway.v1.ISample> = NOTHING_KNOWN;

  constructor(
    /** Points remembered at most (the order buffer's `maxKeys`); past this many the table starts over. */
    private readonly maxPoints = 200_000,
  ) {
    super();
  }

  /** The fields of the sample between `start` and `end`; `point`: its point id, whose strings are remembered. */
  read(data: Buffer, start: number, end: number, point = ''): busway.v1.ISample | undefined {
    this.buf = data;
    this.pos = start;
    this.known = this.last.get(point) ?? NOTHING_KNOWN;
    const s = this.fields(end);
    if (s === undefined) return undefined;
    if (s.metric !== this.known.metric || s.path !== this.known.path) {
      if (this.last.size >= this.maxPoints) this.last.clear();
      this.last.set(point, { metric: s.metric, path: s.path });
    }
    return s;
  }

  private fields(end: number): busway.v1.ISample | undefined {
    const s: busway.v1.ISample = {};
    try {
      while (this.pos < end) {
        const tag = this.varint32();
        const number = tag >>> 3;
        if (number >= SAMPLE_WIRE_TYPES.length) this.skip(tag & 7);
        else if (SAMPLE_WIRE_TYPES[number] !== (tag & 7)) return undefined;
        else if (number === SampleField.Path) {
          if (s.path !== undefined) return undefined;
          const n = this.length();
          s.path = this.path(this.pos + n);
        } else if (number === SampleField.Metric) s.metric = this.asciiOr(this.known.metric ?? undefined);
        else if (number >= SampleField.DoubleValue && number <= SampleField.StringValue) {
          // a oneof: the last value field read is the value, the others are cleared
          delete s.doubleValue;
          delete s.intValue;
          if (number === SampleField.DoubleValue) s.doubleValue = this.double();
          else if (number === SampleField.IntValue) s.intValue = this.zigzag();
          else this.skip(tag & 7); // bool and string values: not numbers the engine reads
        } else this.skip(tag & 7);
      }
      return this.pos === end ? s : undefined;
    } catch (err) {
      if (err instanceof NotPlain) return undefined;
      throw err;
    }
  }

  /** An UnsPath's asset and class (the point's last path object when they are its); its other strings skipped. */
  private path(end: number): busway.v1.IUnsPath {
    const known = this.known.path ?? {};
    let assetClass: string | undefined;
    let asset: string | undefined;
    while (this.pos < end) {
      const tag = this.varint32();
      const number = tag >>> 3;
      if (number < 1 || number > 6 || (tag & 7) !== WireType.Len) throw notPlain;
      if (number === 5) assetClass = this.asciiOr(known.assetClass ?? undefined);
      else if (number === 6) asset = this.asciiOr(known.asset ?? undefined);
      else this.asciiString();
    }
    if (this.pos !== end) throw notPlain;
    if (assetClass === known.assetClass && asset === known.asset) return known;
    const p: busway.v1.IUnsPath = {};
    if (assetClass !== undefined) p.assetClass = assetClass;
    if (asset !== undefined) p.asset = asset;
    return p;
  }

  private double(): number {
    if (this.pos + 8 > this.buf.length) throw notPlain;
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  /** A sint64: zigzag-decoded as protobufjs does. */
  private zigzag(): Long {
    this.varint64();
    const mask = -(this.lo & 1);
    return Long.fromBits(((this.lo >>> 1) | (this.hi << 31)) ^ mask, (this.hi >>> 1) ^ mask);
  }
}
