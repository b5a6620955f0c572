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

/**
 * Reads the fields the engine uses from a Sample's bytes, as the generated decoder would read them (a nested
 * path that comes twice replaces the first, as there); undefined for any other form: the caller decodes.
 */
export class EngineFieldReader extends WireReader {
  read(data: Buffer, start: number, end: number): busway.v1.ISample | undefined {
    this.buf = data;
    this.pos = start;
    const s: busway.v1.ISample = {};
    try {
      while (this.pos < end) {
        const tag = this.varint32();
        const number = tag >>> 3;
        if (number >= SAMPLE_WIRE_TYPES.length) this.skip(tag & 7);
        else if (SAMPLE_WIRE_TYPES[number] !== (tag & 7)) return undefined;
        else if (number === SampleField.Path) {
          const n = this.length();
          s.path = this.path(this.pos + n);
        } else if (number === SampleField.Metric) s.metric = this.ascii();
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

  /** An UnsPath's asset and class; its other strings skipped. */
  private path(end: number): busway.v1.IUnsPath {
    const p: busway.v1.IUnsPath = {};
    while (this.pos < end) {
      const tag = this.varint32();
      const number = tag >>> 3;
      if (number < 1 || number > 6 || (tag & 7) !== WireType.Len) throw notPlain;
      if (number === 5) p.assetClass = this.ascii();
      else if (number === 6) p.asset = this.ascii();
      else this.asciiString();
    }
    if (this.pos !== end) throw notPlain;
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
