import { busway, canonicalUnitOf, Subjects } from '@busway/proto';
import type { CompactRegistry } from '@busway/registry';
import { UnitMismatch } from '@busway/runtime';
import { conversion, toUcum, type Conversion } from './units.js';

/** Samples of one NORM subject (a rack or an area); `stamp` and `group` let a batch group by it without a map. */
export interface SubjectPlan {
  subject: string;
  stamp: number;
  group: number;
}

/** A source unit as a point kind receives it, and what it becomes. */
export interface UnitPlan {
  /** The effective source unit (the sample's, or the registry's when the sample has none). */
  text: string;
  /** Its UTF-8 bytes, to recognize it on the wire without making a string. */
  bytes: Uint8Array;
  /** The conversion to the canonical unit; null when the unit does not fit (the sample is rejected). */
  conv: Conversion | null;
  /** The unit a converted sample carries, and where its encoded field 8 sits in `Plans.fields` (empty for ''). */
  converted: string;
  convertedStart: number;
  convertedEnd: number;
  /** The unit a sample that is not converted (a state, a text) carries, and its field 8. */
  plain: string;
  plainStart: number;
  plainEnd: number;
}

/** What the normalizer needs of a point kind (metric, unit, scale, deadband): shared by every point of that kind. */
export interface KindPlan {
  metric: string;
  /** Canonical UCUM unit of the metric; '' for unitless kinds. */
  canonical: string;
  scale: number;
  registryUnit: string;
  deadband: number | undefined;
  /** Where sample field 3 (the metric), encoded, sits in `Plans.fields`. */
  metricStart: number;
  metricEnd: number;
  /** Whether a numeric value is converted (a canonical unit or a scale other than 1). */
  converts: boolean;
  /** Source units seen, newest last (a kind almost always sees one or two). */
  units: UnitPlan[];
}

const MAX_UNITS_PER_KIND = 8;
/** Fields of a sample, encoded as the generated encoder writes them (an empty string writes nothing). */
export const fieldsOf = (s: busway.v1.ISample): Uint8Array => busway.v1.Sample.encode(s).finish();
const utf8 = new TextEncoder();

/** Encoded fields that go out unchanged (paths, metrics, units), appended to one buffer; read through `view`. */
export class FieldArena {
  bytes = new Uint8Array(4096);
  view = new DataView(this.bytes.buffer);
  private used = 0;

  /** Appends a field; its start (its end is start + length). A caller re-reads `bytes`/`view` after this. */
  append(field: Uint8Array): number {
    if (this.used + field.length > this.bytes.length) {
      const bigger = new Uint8Array(Math.max(this.bytes.length * 2, this.used + field.length));
      bigger.set(this.bytes.subarray(0, this.used));
      this.bytes = bigger;
      this.view = new DataView(bigger.buffer);
    }
    const start = this.used;
    this.bytes.set(field, start);
    this.used += field.length;
    return start;
  }
}

/** The linear conversion from a source unit to a canonical unit, or the mismatch that forbids it. */
export function conversionFor(
  sourceUnit: string,
  kind: { metric: string; canonical: string },
  pointId: string,
): Conversion | UnitMismatch {
  if (sourceUnit === '')
    return new UnitMismatch(
      `no unit for ${pointId}: the source sends none and the registry gives none (metric ${kind.metric})`,
    );
  const ucum = toUcum(sourceUnit);
  if (ucum === null)
    return new UnitMismatch(
      `unit '${sourceUnit}' of ${pointId} is not UCUM nor a known spelling (metric ${kind.metric})`,
    );
  const c = conversion(ucum, kind.canonical);
  if (typeof c === 'string')
    return new UnitMismatch(
      `unit '${sourceUnit}' (${ucum}) of ${pointId} does not fit ${kind.metric}, which is in ${kind.canonical}: ${c}`,
    );
  return c;
}

/**
 * Plans for one registry version, worked out on first use: per asset (subject, encoded path) and per point kind
 * (metric, canonical unit, conversions). Nothing per point: 100k points cost no memory here, and an asset
 * costs its subject reference and its encoded path in one shared buffer.
 */
export class Plans {
  /** Per asset: its subject; undefined until worked out, null when the asset has no path (a stray point). */
  private readonly subjects: (SubjectPlan | null | undefined)[];
  private readonly subjectByName = new Map<string, SubjectPlan>();
  /** Encoded fields that go out as they are: asset i's path is fields[pathStart(i), pathEnd(i)). */
  readonly fields = new FieldArena();
  private readonly pathStarts: Int32Array;
  private readonly pathEnds: Int32Array;
  /** Path objects, for the object path only. */
  private readonly paths = new Map<number, busway.v1.IUnsPath>();
  private readonly kinds: (KindPlan | undefined)[];
  /**
   * The row that came after each row last time (-1: not seen yet). A source sends its points in the same order
   * every time, so the next point is almost always the guessed one: a comparison of bytes instead of a hash.
   */
  readonly successor: Int32Array;
  /** The row the last message started with. */
  firstGuess = -1;

  constructor(
    readonly registry: CompactRegistry,
    private readonly site: string,
  ) {
    this.subjects = new Array<SubjectPlan | null | undefined>(registry.assetCount);
    this.pathStarts = new Int32Array(registry.assetCount);
    this.pathEnds = new Int32Array(registry.assetCount);
    this.kinds = new Array<KindPlan | undefined>(registry.kindCount);
    this.successor = new Int32Array(registry.pointCount).fill(-1);
  }

  /** The row of the point id `buf[start, end)` that follows row `previous` (-1: first of a message). */
  rowAfter(previous: number, buf: Uint8Array, start: number, end: number): number {
    const registry = this.registry;
    const guess = previous >= 0 ? (this.successor[previous] as number) : this.firstGuess;
    if (guess >= 0 && registry.rowHasId(guess, buf, start, end)) return guess;
    const row = registry.pointRowOfBytes(buf, start, end);
    if (previous >= 0) this.successor[previous] = row;
    else this.firstGuess = row;
    return row;
  }

  /** The NORM subject of the asset at `index`; undefined when it has no path (a stray point). */
  subject(index: number): SubjectPlan | undefined {
    if (index < 0) return undefined;
    const cached = this.subjects[index];
    if (cached !== undefined) return cached ?? undefined;
    const a = this.registry.assetAt(index);
    const path = a && this.registry.pathOf(a.id);
    if (!path) {
      this.subjects[index] = null;
      return undefined;
    }
    const name = Subjects.normSamples(
      path.site ?? this.site,
      path.hall ?? '_',
      path.row ?? '_',
      path.rack ?? '_',
    );
    let sp = this.subjectByName.get(name);
    if (!sp) this.subjectByName.set(name, (sp = { subject: name, stamp: -1, group: -1 }));
    const field = fieldsOf({ path });
    const start = this.fields.append(field);
    this.pathStarts[index] = start;
    this.pathEnds[index] = start + field.length;
    this.subjects[index] = sp;
    return sp;
  }

  /** Where the encoded path of an asset (whose `subject` was asked first) sits in `fields`. */
  pathStart(index: number): number {
    return this.pathStarts[index] as number;
  }

  pathEnd(index: number): number {
    return this.pathEnds[index] as number;
  }

  /** The path object of an asset that has a subject. */
  path(index: number): busway.v1.IUnsPath {
    let p = this.paths.get(index);
    if (!p) {
      p = this.registry.pathOf((this.registry.assetAt(index) as { id: string }).id) as busway.v1.IUnsPath;
      this.paths.set(index, p);
    }
    return p;
  }

  kind(index: number): KindPlan {
    const cached = this.kinds[index];
    if (cached) return cached;
    const k = this.registry.kind(index);
    if (!k) throw new Error(`registry has no point kind ${index}`);
    const canonical = canonicalUnitOf(k.metric) ?? '';
    const scale = k.scale ?? 1;
    const metricField = fieldsOf({ metric: k.metric });
    const metricStart = this.fields.append(metricField);
    const plan: KindPlan = {
      metric: k.metric,
      canonical,
      scale,
      registryUnit: k.unit ?? '',
      deadband: k.deadband,
      metricStart,
      metricEnd: metricStart + metricField.length,
      converts: canonical !== '' || scale !== 1,
      units: [],
    };
    this.kinds[index] = plan;
    return plan;
  }

  /**
   * The plan of a source unit for a kind, remembered: a kind keeps at most a few (one or two in practice); past
   * that, a unit gets a plan for this sample only, so a source sending junk units cannot grow memory.
   */
  unitPlan(kind: KindPlan, sourceUnit: string): UnitPlan {
    for (const u of kind.units) if (u.text === sourceUnit) return u;
    return this.rememberUnit(kind, sourceUnit) ?? unitPlanOf(kind, sourceUnit, -1, -1, -1, -1);
  }

  /** The same, recognized by the unit's bytes on the wire (`buf[start, end)`), or undefined when not seen yet. */
  unitPlanOfBytes(kind: KindPlan, buf: Uint8Array, start: number, end: number): UnitPlan | undefined {
    const length = end - start;
    for (const u of kind.units) {
      const b = u.bytes;
      if (b.length !== length) continue;
      let i = 0;
      while (i < length && b[i] === buf[start + i]) i++;
      if (i === length) return u;
    }
    return undefined;
  }

  /** Remembers a unit's plan for a kind (undefined when the kind holds as many as it keeps). */
  rememberUnit(kind: KindPlan, sourceUnit: string): UnitPlan | undefined {
    if (kind.units.length >= MAX_UNITS_PER_KIND) return undefined;
    const plain = plainUnit(sourceUnit);
    const convertedField = fieldsOf({ unit: kind.canonical || plain });
    const plainField = fieldsOf({ unit: plain });
    const convertedStart = this.fields.append(convertedField);
    const plainStart = this.fields.append(plainField);
    const u = unitPlanOf(
      kind,
      sourceUnit,
      convertedStart,
      convertedStart + convertedField.length,
      plainStart,
      plainStart + plainField.length,
    );
    kind.units.push(u);
    return u;
  }
}

const plainUnit = (sourceUnit: string) => (sourceUnit ? (toUcum(sourceUnit) ?? sourceUnit) : '');

function unitPlanOf(
  kind: KindPlan,
  sourceUnit: string,
  convertedStart: number,
  convertedEnd: number,
  plainStart: number,
  plainEnd: number,
): UnitPlan {
  const c = kind.canonical === '' ? { scale: 1, offset: 0 } : conversionFor(sourceUnit, kind, '');
  const plain = plainUnit(sourceUnit);
  return {
    text: sourceUnit,
    bytes: utf8.encode(sourceUnit),
    conv: c instanceof UnitMismatch ? null : c,
    converted: kind.canonical || plain,
    convertedStart,
    convertedEnd,
    plain,
    plainStart,
    plainEnd,
  };
}
