// Shared by the integration tests: a VTN built from the OpenAPI document, the VEN as a process runs it,
// and readers of what reached JetStream.
import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  type JetStreamClient,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { busway, Streams } from '@busway/proto';
import { Hdr, runWorker, type WorkerRuntime } from '@busway/runtime';
import { Vtn, type OadrObject, type VtnOptions } from '@busway/simulator';
import type { TestServer } from '@busway/testkit';
import { ingestOpenadrModule } from './index.js';
import { SIGNAL_SUBJECT } from './publish.js';

export const VEN_CLIENT = { clientId: 'ven-1', clientSecret: 'ven-1-secret-42', role: 'ven' as const };
export const CALLBACK_TOKEN = 'callback-token-for-the-tests';

/** A VTN that retries webhooks quickly, so tests see retries within a second. */
export async function startVtn(options: Partial<VtnOptions> = {}): Promise<Vtn> {
  return Vtn.start({
    clients: [VEN_CLIENT],
    notifier: { initialDelayMs: 50, maxDelayMs: 400, maxAttempts: 200, timeoutMs: 2000 },
    ...options,
  });
}

/** The VEN against the VTN, polling fast, reports off unless asked for. */
export async function startVen(
  nats: TestServer,
  vtn: Vtn,
  env: Record<string, string> = {},
): Promise<WorkerRuntime> {
  const { rt } = await runWorker(ingestOpenadrModule, {
    env: {
      NATS_URL: nats.url,
      BUSWAY_LOG_LEVEL: 'silent',
      BUSWAY_VTN_URL: vtn.url,
      BUSWAY_CLIENT_ID: VEN_CLIENT.clientId,
      BUSWAY_CLIENT_SECRET: VEN_CLIENT.clientSecret,
      BUSWAY_CALLBACK_TOKEN: CALLBACK_TOKEN,
      BUSWAY_CALLBACK_ADDRESS: '127.0.0.1',
      BUSWAY_POLL_INTERVAL_MS: '300',
      BUSWAY_RESYNC_INTERVAL_MS: '60000',
      BUSWAY_REPORTS: 'false',
      ...env,
    },
    signals: false,
  });
  return rt;
}

export const outcome = (rt: WorkerRuntime, name: string) =>
  rt.metrics.value('busway_messages_total', { stage: 'ingest', outcome: name });

/** A JetStream client and manager: a worker runtime, or the test's own connection. */
export interface Js {
  js: JetStreamClient;
  jsm: JetStreamManager;
}

/** The test's own connection, which outlives the VEN restarts it makes. */
export async function openJs(url: string): Promise<Js & { nc: NatsConnection }> {
  const nc = await connect({ servers: url });
  return { nc, js: jetstream(nc), jsm: await jetstreamManager(nc) };
}

/** Every message on a subject of a stream, in order (an empty list when the stream is gone). */
export async function readSubject(rt: Js, stream: string, subject: string) {
  const out: { data: Uint8Array; headers: Map<string, string> }[] = [];
  let name: string;
  try {
    const info = await rt.jsm.consumers.add(stream, {
      filter_subject: subject,
      ack_policy: AckPolicy.None,
      deliver_policy: DeliverPolicy.All,
      inactive_threshold: 30_000_000_000,
    });
    name = info.name;
  } catch {
    return out;
  }
  try {
    const consumer = await rt.js.consumers.get(stream, name);
    let remaining = (await consumer.info()).num_pending;
    while (remaining > 0) {
      for await (const m of await consumer.fetch({ max_messages: Math.min(remaining, 256), expires: 2000 })) {
        const headers = new Map<string, string>();
        for (const k of m.headers?.keys() ?? []) headers.set(k, m.headers?.get(k) ?? '');
        out.push({ data: m.data, headers });
        remaining--;
      }
    }
    return out;
  } finally {
    await rt.jsm.consumers.delete(stream, name).catch(() => undefined);
  }
}

/** Every signal batch the VEN stored: its Nats-Msg-Id and events. */
export async function signalBatches(rt: Js) {
  return (await readSubject(rt, Streams.Raw.name, SIGNAL_SUBJECT)).map((m) => ({
    msgId: m.headers.get(Hdr.MsgId) ?? '',
    events: busway.v1.EventBatch.decode(m.data).events,
  }));
}

/** The stored signal batches of one event. */
export async function batchesOf(rt: Js, eventId: string) {
  return (await signalBatches(rt)).filter((b) => b.events[0]?.grid?.eventId === eventId);
}

/** Every dead letter of the worker: code, reason and the object as JSON. */
export async function deadLetters(rt: Js) {
  return (await readSubject(rt, Streams.DeadLetter.name, 'dlq.v1.ingest-openadr')).map((m) => ({
    code: m.headers.get(Hdr.DlqCode) ?? '',
    reason: m.headers.get(Hdr.DlqReason) ?? '',
    object: JSON.parse(new TextDecoder().decode(m.data)) as unknown,
  }));
}

/** The scenario program; one per VTN. */
export function drProgram(vtn: Vtn, name = 'busway-dr'): OadrObject {
  return vtn.createProgram({
    programName: name,
    payloadDescriptors: [
      { objectType: 'EVENT_PAYLOAD_DESCRIPTOR', payloadType: 'IMPORT_CAPACITY_LIMIT', units: 'KW' },
      { objectType: 'EVENT_PAYLOAD_DESCRIPTOR', payloadType: 'PRICE', units: 'KWH', currency: 'USD' },
    ],
  });
}

/** An eventRequest capping import at `limitKw` for one 15-minute interval from `startMs`. */
export function capEvent(
  programID: string,
  limitKw: number,
  startMs = Date.now() + 60_000,
  extra: Record<string, unknown> = {},
) {
  return {
    programID,
    eventName: `cap-${limitKw}`,
    intervalPeriod: { start: new Date(startMs).toISOString(), duration: 'PT15M' },
    intervals: [{ id: 0, payloads: [{ type: 'IMPORT_CAPACITY_LIMIT', values: [limitKw] }] }],
    ...extra,
  };
}

/** The VTN kept to the document: nothing it sent broke a schema. */
export function assertVtnConformed(vtn: Vtn): void {
  if (vtn.invalidResponses.length > 0 || vtn.notifier.invalid.length > 0)
    throw new Error(
      `the VTN broke its schemas: ${[...vtn.invalidResponses, ...vtn.notifier.invalid].join('; ')}`,
    );
}
