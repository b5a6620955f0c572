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
  /** The unit a converted sample carries, and its encoded field 8 (empty for ''). */
  converted: string;
  convertedField: Uint8Array;
  /** The unit a sample that is not converted (a state, a text) carries, and its field 8. */
  plain: string;
  plainField: Uint8Array;
}

/** What the normalizer needs of a point kind (metric, unit, scale, deadband): shared by every point of that kind. */
export interface KindPlan {
  metric: string;
  /** Canonical UCUM unit of the metric; '' for unitless kinds. */
  canonical: string;
  scale: number;
  registryUnit: string;
  deadband: number | undefined;
  /** Sample field 3 (the metric), encoded. */
  metricField: Uint8Array;
  /** Whether a numeric value is converted (a canonical unit or a scale other than 1). */
  converts: boolean;
  /** Source units seen, newest last (a kind almost always sees one or two). */
  units: UnitPlan[];
}

const MAX_UNITS_PER_KIND = 8;
/** Fields of a sample, encoded as the generated encoder writes them (an empty string writes nothing). */
const fieldsOf = (s: busway.v1.ISample): Uint8Array => busway.v1.Sample.encode(s).finish();
const utf8 = new TextEncoder();

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
  /** Sample field 2 (the path) of asset i, encoded: pathFields[pathStart[i], pathEnd[i]). */
  pathFields = new Uint8Array(4096);
  private pathUsed = 0;
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
    if (this.pathUsed + field.length > this.pathFields.length) {
      const bigger = new Uint8Array(Math.max(this.pathFields.length * 2, this.pathUsed + field.length));
      bigger.set(this.pathFields.subarray(0, this.pathUsed));
      this.pathFields = bigger;
    }
    this.pathFields.set(field, this.pathUsed);
    this.pathStarts[index] = this.pathUsed;
    this.pathUsed += field.length;
    this.pathEnds[index] = this.pathUsed;
    this.subjects[index] = sp;
    return sp;
  }

  /** Where the encoded path of an asset (whose `subject` was asked first) sits in `pathFields`. */
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
    const plan: KindPlan = {
      metric: k.metric,
      canonical,
      scale,
      registryUnit: k.unit ?? '',
      deadband: k.deadband,
      metricField: fieldsOf({ metric: k.metric }),
      converts: canonical !== '' || scale !== 1,
      units: [],
    };
    this.kinds[index] = plan;
    return plan;
  }
}

/** The plan of a source unit for a kind, remembered (a few per kind; an odd one is worked out each time). */
export function unitPlan(kind: KindPlan, sourceUnit: string): UnitPlan {
  for (const u of kind.units) if (u.text === sourceUnit) return u;
  return rememberUnit(kind, sourceUnit);
}

/** The same, recognized by the unit's bytes on the wire (`length` bytes of `buf` from `start`). */
export function unitPlanOfBytes(
  kind: KindPlan,
  buf: Uint8Array,
  start: number,
  length: number,
): UnitPlan | undefined {
  for (const u of kind.units) {
    const b = u.bytes;
    if (b.length !== length) continue;
    let i = 0;
    while (i < length && b[i] === buf[start + i]) i++;
    if (i === length) return u;
  }
  return undefined;
}

export function rememberUnit(kind: KindPlan, sourceUnit: string): UnitPlan {
  const c = kind.canonical === '' ? { scale: 1, offset: 0 } : conversionFor(sourceUnit, kind, '');
  const plain = sourceUnit ? (toUcum(sourceUnit) ?? sourceUnit) : '';
  const converted = kind.canonical || plain;
  const u: UnitPlan = {
    text: sourceUnit,
    bytes: utf8.encode(sourceUnit),
    conv: c instanceof UnitMismatch ? null : c,
    converted,
    convertedField: fieldsOf({ unit: converted }),
    plain,
    plainField: fieldsOf({ unit: plain }),
  };
  if (kind.units.length >= MAX_UNITS_PER_KIND) kind.units.shift();
  kind.units.push(u);
  return u;
}
