import { messageOf, type Logger } from '@busway/runtime';
import { HttpStatusError, type RedfishClient } from './client.js';

/** What a service offers, read from its ServiceRoot, EventService and TelemetryService. */
export interface Discovery {
  /** EventService.ServerSentEventUri, when the service streams events and allows MetricReport ones. */
  sseUri?: string;
  /** EventService.Subscriptions, when the service pushes MetricReports to subscribers. */
  subscriptionsPath?: string;
  metricReportsPath?: string;
  chassisPath?: string;
  /** Units by MetricDefinition URI and by MetricId (MetricDefinition.Units: UCUM). */
  definitionUnits: Map<string, string>;
}

const MAX_DEFINITIONS = 256;
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const refOf = (v: unknown): string | undefined => {
  const id = isObject(v) ? v['@odata.id'] : undefined;
  return typeof id === 'string' && id !== '' ? id : undefined;
};
const membersOf = (collection: unknown): string[] =>
  isObject(collection) && Array.isArray(collection.Members)
    ? collection.Members.map(refOf).filter((m): m is string => m !== undefined)
    : [];

/** An optional resource: undefined when the service says it has none (404, 405, 501). */
async function optional(
  client: RedfishClient,
  path: string | undefined,
  signal: AbortSignal,
): Promise<unknown> {
  if (!path) return undefined;
  try {
    return await client.get(path, signal);
  } catch (err) {
    if (err instanceof HttpStatusError && [404, 405, 501].includes(err.status)) return undefined;
    throw err;
  }
}

/** Reads what the service offers; the ServiceRoot must answer, the rest is optional. */
export async function discover(client: RedfishClient, signal: AbortSignal, log: Logger): Promise<Discovery> {
  const root = await client.get('/redfish/v1/', signal);
  if (!isObject(root)) throw new HttpStatusError(502, 'the ServiceRoot is not a JSON object');
  const sessions = isObject(root.Links) ? refOf(root.Links.Sessions) : undefined;
  if (sessions) client.sessionsPath = sessions;
  const events = await optional(client, refOf(root.EventService), signal);
  const telemetry = await optional(client, refOf(root.TelemetryService), signal);
  const found: Discovery = { chassisPath: refOf(root.Chassis), definitionUnits: new Map() };
  if (isObject(events) && events.ServiceEnabled !== false) {
    const formats = Array.isArray(events.EventFormatTypes) ? events.EventFormatTypes : undefined;
    const reports = !formats || formats.includes('MetricReport');
    if (reports && typeof events.ServerSentEventUri === 'string') found.sseUri = events.ServerSentEventUri;
    if (reports) found.subscriptionsPath = refOf(events.Subscriptions);
  }
  if (isObject(telemetry) && telemetry.ServiceEnabled !== false) {
    found.metricReportsPath = refOf(telemetry.MetricReports);
    await readUnits(client, refOf(telemetry.MetricDefinitions), found.definitionUnits, signal, log);
  }
  return found;
}

/** MetricDefinition Units, best effort: a service without them still works, units then come from names or config. */
async function readUnits(
  client: RedfishClient,
  path: string | undefined,
  units: Map<string, string>,
  signal: AbortSignal,
  log: Logger,
): Promise<void> {
  try {
    const members = membersOf(await optional(client, path, signal)).slice(0, MAX_DEFINITIONS);
    for (const uri of members) {
      const def = await optional(client, uri, signal);
      if (!isObject(def) || typeof def.Units !== 'string') continue;
      units.set(uri, def.Units);
      if (typeof def.Id === 'string') units.set(def.Id, def.Units);
    }
  } catch (err) {
    log.debug({ err: messageOf(err) }, 'MetricDefinitions unreadable; units come from names and config');
  }
}

export { membersOf, refOf, isObject };
