import type { CloudEventJson } from '@busway/runtime';

// The CloudEvent itself is runtime's cloudEventOf (MQTT republish uses it too): here, how a POST carries it.
export { cloudEventOf } from '@busway/runtime';
export type { CloudEventJson, FabricMessage } from '@busway/runtime';

export const CE_JSON = 'application/cloudevents+json; charset=utf-8';
export const CE_BATCH = 'application/cloudevents-batch+json; charset=utf-8';

/** The body of one POST: a single event in structured mode, or a JSON array in batched mode. */
export function bodyOf(events: CloudEventJson[], batched: boolean): { body: string; contentType: string } {
  if (!batched && events.length === 1) return { body: JSON.stringify(events[0]), contentType: CE_JSON };
  return { body: JSON.stringify(events), contentType: CE_BATCH };
}
