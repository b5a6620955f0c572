import type { busway } from '../gen/busway.js';
import { token } from './subjects.js';

/** Token positions of a UNS subject: uns.v1.<site>.<hall>.<row>.<rack>.<class>.<asset>.<metric...> */
export const UnsTokens = { site: 2, hall: 3, row: 4, rack: 5, assetClass: 6, asset: 7, metric: 8 } as const;

/** The asset class of a point that has no registry entry yet. */
export const UNREGISTERED_CLASS = 'unregistered';

/** The UNS subject of one sample: each path part one token, the metric's dotted name the tail. */
export function unsSubject(path: busway.v1.IUnsPath, metric: string): string {
  return `uns.v1.${token(path.site ?? '')}.${token(path.hall ?? '')}.${token(path.row ?? '')}.${token(
    path.rack ?? '',
  )}.${token(path.assetClass ?? '')}.${token(path.asset ?? '')}.${metricTokens(metric)}`;
}

/** A taxonomy metric name as subject tokens: "temperature.coolant.supply" stays as it is, "Power/Active kW" -> "power.active-kw". */
export function metricTokens(metric: string): string {
  const parts = metric.split(/[./]+/).map(token);
  return parts.length === 0 ? '_' : parts.join('.');
}

/** Path for a point the registry does not know: derived from the source identity so it is visible at once. */
export function unregisteredPath(site: string, sourceId: string): busway.v1.IUnsPath {
  return { site, hall: '_', row: '_', rack: '_', assetClass: UNREGISTERED_CLASS, asset: token(sourceId) };
}
