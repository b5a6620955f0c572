// What scanners of Sample bytes share: the schema's wire types, and checks of the nested messages' bytes.
import { notPlain, WireReader, WireType } from './wire-reader.js';

/** Wire type of each Sample field by number (telemetry.proto); -1: no such field. */
export const SAMPLE_WIRE_TYPES: readonly number[] = [-1, 2, 2, 2, 1, 0, 0, 2, 2, 1, 0, 0, 1, 0, 2, 0, 0, 2];

/** Sample fields by number, as scanners name them. */
export const SampleField = {
  PointId: 1,
  Path: 2,
  Metric: 3,
  DoubleValue: 4,
  IntValue: 5,
  BoolValue: 6,
  StringValue: 7,
  Unit: 8,
  EventTime: 9,
  Source: 14,
  Sequence: 15,
  Flags: 17,
} as const;

/** Sample's string fields other than metric, which the generated decoder checks as UTF-8. */
const SAMPLE_STRING_FIELDS: ReadonlySet<number> = new Set([1, 7, 8, 17]);

/** A WireReader that also checks a Sample's nested messages in the form the generated decoder reads alike. */
export class SampleWireReader extends WireReader {
  /**
   * `seen` with the field of `tag` added, once its wire type is the schema's and it came no time before (flags
   * may repeat); anything else is not plain. -1 for a field of a newer schema, skipped: passed on as it is.
   */
  protected sampleField(tag: number, seen: number): number {
    const number = tag >>> 3;
    if (number >= SAMPLE_WIRE_TYPES.length) {
      this.skip(tag & 7);
      return -1;
    }
    if (SAMPLE_WIRE_TYPES[number] !== (tag & 7) || (seen & (1 << number) && number !== SampleField.Flags))
      throw notPlain;
    return seen | (1 << number);
  }

  /** A Sample field a scanner does not keep, checked as the generated decoder reads it alike. */
  protected otherSampleField(tag: number): void {
    const number = tag >>> 3;
    if (number === SampleField.Path || number === SampleField.Source) {
      const n = this.length();
      if (number === SampleField.Path) this.unsPath(this.pos + n);
      else this.sourceRef(this.pos + n);
    } else if (SAMPLE_STRING_FIELDS.has(number)) this.asciiString();
    else this.skip(tag & 7);
  }

  /** A SourceRef: its strings 1 to 3, each at most once, ASCII. */
  protected sourceRef(end: number): void {
    this.stringsOnly(end, 3);
  }

  /** An UnsPath: its strings 1 to 6, each at most once, ASCII. */
  protected unsPath(end: number): void {
    this.stringsOnly(end, 6);
  }

  private stringsOnly(end: number, last: number): void {
    let seen = 0;
    while (this.pos < end) {
      const tag = this.varint32();
      const number = tag >>> 3;
      if (number < 1 || number > last || (tag & 7) !== WireType.Len || seen & (1 << number)) throw notPlain;
      seen |= 1 << number;
      this.asciiString();
    }
    if (this.pos !== end) throw notPlain;
  }
}
