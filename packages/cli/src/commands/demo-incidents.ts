// The incidents the demo's correlator publishes, watched as they come: how many of each kind, and a line for
// the first complete ones, each lag with its standard error (how far the correlator vouches for it).
import type { NatsConnection } from '@nats-io/transport-node';
import { busway } from '@busway/proto';

export interface IncidentSummary {
  byKind: Record<string, number>;
  /** The first complete incidents (every expected link found), job chains first, one line each. */
  examples: string[];
}

/** `+20.2 kW`, `-0.35 Cel`: a link's magnitude in its unit, power in kW. */
function magnitude(l: busway.v1.IIncidentLink): string {
  const w = l.unit === 'W';
  const v = w ? (l.magnitude ?? 0) / 1000 : (l.magnitude ?? 0);
  return `${v >= 0 ? '+' : ''}${v.toFixed(w ? 1 : 2)} ${w ? 'kW' : l.unit}`;
}

/** `3.05 ± 0.12 s`; without the ± when the lag's standard error was not estimated. */
function lag(l: busway.v1.IIncidentLink): string {
  const sd = l.lagSdMs ? ` ± ${(l.lagSdMs / 1000).toFixed(2)}` : '';
  return `${((l.lagMs ?? 0) / 1000).toFixed(2)}${sd} s`;
}

/** One line: the incident's own summary, then each answering link (thermal ones lag from their power step). */
export function describeIncident(i: busway.v1.IIncident): string {
  const links = (i.chain ?? [])
    .filter((l) => l.role !== 'cause')
    .map((l) => `${l.path?.asset ?? 'site'} ${magnitude(l)} after ${lag(l)}`);
  return `${i.summary ?? i.id}: ${links.join('; ')}`;
}

/** Subscribes to every incident until stopped; `summary()` reads what came so far. */
export function watchIncidents(nc: NatsConnection, keep = 3) {
  const byKind: Record<string, number> = {};
  // a chain an earlier run left open may close incomplete at the start of this one: complete ones are shown
  const jobs: string[] = [];
  const others: string[] = [];
  const sub = nc.subscribe('incident.v1.>', {
    callback: (err, msg) => {
      if (err) return;
      let i: busway.v1.Incident;
      try {
        i = busway.v1.Incident.decode(msg.data);
      } catch {
        byKind.undecodable = (byKind.undecodable ?? 0) + 1;
        return;
      }
      const kind = i.kind || 'unknown';
      byKind[kind] = (byKind[kind] ?? 0) + 1;
      const shown = kind === 'job-power-thermal' ? jobs : others;
      if (i.confidence === 1 && shown.length < keep) shown.push(describeIncident(i));
    },
  });
  return {
    summary: (): IncidentSummary => ({
      byKind: { ...byKind },
      examples: [...jobs, ...others].slice(0, keep),
    }),
    stop: () => sub.unsubscribe(),
  };
}
