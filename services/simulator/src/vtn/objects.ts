import type { OpenAdrSchemaName } from './spec.js';

/** An object as the VTN stores and serves it: the request's fields plus objectMetadata. */
export type OadrObject = Record<string, unknown> & {
  id: string;
  objectType: string;
  createdDateTime: string;
  modificationDateTime: string;
  clientID?: string;
  targets?: string[] | null;
};

/** The five collections the VTN serves and how each is written and read. */
export const COLLECTIONS = {
  programs: {
    objectType: 'PROGRAM',
    request: 'programRequest',
    response: 'program',
    prefix: 'program',
    blOnly: true,
    owned: false,
  },
  events: {
    objectType: 'EVENT',
    request: 'eventRequest',
    response: 'event',
    prefix: 'event',
    blOnly: true,
    owned: false,
  },
  vens: {
    objectType: 'VEN',
    request: 'venRequest',
    response: 'ven',
    prefix: 'ven',
    blOnly: false,
    owned: true,
  },
  subscriptions: {
    objectType: 'SUBSCRIPTION',
    request: 'subscriptionRequest',
    response: 'subscription',
    prefix: 'subscription',
    blOnly: false,
    owned: true,
  },
  reports: {
    objectType: 'REPORT',
    request: 'reportRequest',
    response: 'report',
    prefix: 'report',
    blOnly: false,
    owned: true,
  },
} as const satisfies Record<
  string,
  {
    objectType: string;
    request: OpenAdrSchemaName;
    response: OpenAdrSchemaName;
    prefix: string;
    /** Only the business logic writes it (write_programs, write_events). */
    blOnly: boolean;
    /** Carries the writer's clientID; a VEN sees only its own. */
    owned: boolean;
  }
>;
export type CollectionName = keyof typeof COLLECTIONS;

/**
 * Approximate length of an ISO 8601 duration in ms (a year 365 days, a month 30), Infinity for the
 * document's P9999Y; undefined when it does not parse. Only the `active` filter uses it.
 */
export function roughDurationMs(text: string): number | undefined {
  if (/^P9999Y/.test(text)) return Infinity;
  const m =
    /^(-?)P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(
      text,
    );
  if (!m) return undefined;
  const n = (i: number) => Number(m[i] ?? 0);
  const ms =
    ((((n(2) * 365 + n(3) * 30 + n(4) * 7 + n(5)) * 24 + n(6)) * 60 + n(7)) * 60 + Number(m[8] ?? 0)) * 1000;
  return m[1] ? -ms : ms;
}

type Period = { start?: string; duration?: string } | undefined;

/** When an event's last interval ends (ms), Infinity when open-ended or unknown: what `active=true` keeps. */
export function eventEndMs(event: OadrObject): number {
  const period = event.intervalPeriod as Period;
  const intervals = (event.intervals as { intervalPeriod?: Period }[] | undefined) ?? [];
  let cursor = period?.start ? Date.parse(period.start) : NaN;
  let end = -Infinity;
  for (const interval of intervals) {
    const start = interval.intervalPeriod?.start ? Date.parse(interval.intervalPeriod.start) : cursor;
    const duration = roughDurationMs(interval.intervalPeriod?.duration ?? period?.duration ?? '');
    if (!Number.isFinite(start) || duration === undefined || !Number.isFinite(duration)) return Infinity;
    cursor = start + duration;
    end = Math.max(end, cursor);
  }
  return Number.isFinite(end) ? end : Infinity;
}

/**
 * read_targets: an object naming targets is visible to a client that names one of them; an object without
 * targets is visible to all. The business logic without a targets filter sees everything.
 */
export function visibleTo(object: OadrObject, queryTargets: string[], bl: boolean): boolean {
  const targets = object.targets ?? [];
  if (bl && queryTargets.length === 0) return true;
  if (targets.length === 0) return !bl || queryTargets.length === 0;
  return targets.some((t) => queryTargets.includes(t));
}
