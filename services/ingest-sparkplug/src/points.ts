import { busway, Long } from '@busway/proto';
import type { MetricDef } from './decoder.js';

/** What a point's last sample held, by the value field it used. */
export const ValueKind = { None: 0, Double: 1, Int: 2, Bool: 3, String: 4, Null: 5 } as const;
export type ValueKind = (typeof ValueKind)[keyof typeof ValueKind];

/**
 * A point's last value, kept in fields (no sample object survives a message): what a death re-sends as
 * STALE. `kind` None means no sample of the point was sent yet.
 */
export class LastValue {
  kind: ValueKind = ValueKind.None;
  num = 0;
  /** An int value's two's complement halves. */
  lo = 0;
  hi = 0;
  str = '';
  bool = false;
  unit = '';
  clock = 0;

  copy(from: LastValue): void {
    this.kind = from.kind;
    this.num = from.num;
    this.lo = from.lo;
    this.hi = from.hi;
    this.str = from.str;
    this.bool = from.bool;
    this.unit = from.unit;
    this.clock = from.clock;
  }

  /** From a sample the generated path made. */
  remember(s: busway.v1.ISample): void {
    this.unit = s.unit ?? '';
    this.clock = s.clockSource ?? 0;
    if (s.doubleValue != null) {
      this.kind = ValueKind.Double;
      this.num = s.doubleValue;
    } else if (s.intValue != null) {
      const v = Long.fromValue(s.intValue);
      this.kind = ValueKind.Int;
      this.lo = v.low;
      this.hi = v.high;
    } else if (s.boolValue != null) {
      this.kind = ValueKind.Bool;
      this.bool = s.boolValue;
    } else if (s.stringValue != null) {
      this.kind = ValueKind.String;
      this.str = s.stringValue;
    } else this.kind = ValueKind.Null;
  }

  /** The last value re-stamped STALE at `now` (ns), flagged `death`. */
  stale(pointId: string, now: Long): busway.v1.ISample {
    const s: busway.v1.ISample = {
      pointId,
      unit: this.unit,
      eventTimeNs: now,
      clockSource: this.clock,
      ingestTimeNs: now,
      quality: busway.v1.Quality.QUALITY_STALE,
      sequence: now,
      flags: ['death'],
    };
    if (this.kind === ValueKind.Double) s.doubleValue = this.num;
    else if (this.kind === ValueKind.Int) s.intValue = Long.fromBits(this.lo, this.hi);
    else if (this.kind === ValueKind.Bool) s.boolValue = this.bool;
    else if (this.kind === ValueKind.String) s.stringValue = this.str;
    return s;
  }
}

/** The session and command metrics a host reads but never turns into samples. */
export function isControlMetric(name: string): boolean {
  return name === 'bdSeq' || name.startsWith('Node Control/');
}

/** One metric (leaf) of a node or device: its point id, encoded once, and its last value. */
export class Point {
  /** The Sample's field 1 (tag, length, UTF-8 bytes), copied as is into every sample of the point. */
  readonly idField: Buffer;
  /** Its name's bytes when they are ASCII, to know it in a payload without making a string. */
  readonly nameBytes?: Buffer;
  /** `isControlMetric` of its name, asked once rather than per metric read. */
  readonly control: boolean;
  readonly last = new LastValue();
  /** The value a message being read gives it, made `last` once the whole message is read. */
  readonly next = new LastValue();

  constructor(
    readonly name: string,
    readonly id: string,
  ) {
    const nameBytes = Buffer.from(name, 'utf8');
    if (nameBytes.length === name.length) this.nameBytes = nameBytes; // ASCII: one byte per character
    this.control = isControlMetric(name);
    this.idField = Buffer.from(busway.v1.Sample.encode({ pointId: id }).finish());
  }
}

/** A Sparkplug metric's point id: its source (group/edge[/device]) and its (leaf) name. */
export function pointIdOf(sourceId: string, name: string): string {
  return `sparkplug:${sourceId}:${name}`;
}

/** Points remembered per node or device; past this many (names no birth declared) the table starts over. */
const MAX_POINTS = 100_000;

/** The point at one position of a data message, with its birth definition if it has one. */
export interface Positioned {
  point: Point;
  def?: MetricDef;
}

/** A node's or device's points by metric (leaf) name. */
export class PointTable {
  private readonly byName = new Map<string, Point>();
  /** The metric at each position of the last data message: most messages list the same names in one order. */
  private readonly positions: (Positioned | undefined)[] = [];

  constructor(private readonly sourceId: string) {}

  get(name: string): Point {
    let p = this.byName.get(name);
    if (p === undefined) {
      if (this.byName.size >= MAX_POINTS) this.clear();
      p = new Point(name, pointIdOf(this.sourceId, name));
      this.byName.set(name, p);
    }
    return p;
  }

  positioned(index: number): Positioned | undefined {
    return this.positions[index];
  }

  position(index: number, at: Positioned): void {
    if (index <= this.positions.length) this.positions[index] = at; // never a hole: the array stays packed
  }

  /** Births changed the definitions the positions hold. */
  forgetPositions(): void {
    this.positions.length = 0;
  }

  private clear(): void {
    this.byName.clear();
    this.forgetPositions();
  }

  values(): IterableIterator<Point> {
    return this.byName.values();
  }
}
