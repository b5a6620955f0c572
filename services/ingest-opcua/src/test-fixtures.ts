// Shared by this package's integration tests: the worker's config for the test plant, and readers of RAW and DLQ.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { busway } from '@busway/proto';
import { Hdr, type WorkerRuntime } from '@busway/runtime';
import { NODE } from './test-server.js';

/** Every variable of the test plant, fast, with a deadband on the flow (absolute) and the level (percent). */
export const PLANT_ITEMS = [
  { nodeId: NODE.supplyTemp, name: 'supply-temp', samplingIntervalMs: 50, unit: 'degC' },
  { nodeId: NODE.flow, name: 'flow', samplingIntervalMs: 50, deadband: { type: 'absolute', value: 5 } },
  { nodeId: NODE.level, name: 'level', samplingIntervalMs: 50, deadband: { type: 'percent', value: 10 } },
  { nodeId: NODE.pressure, name: 'pressure', samplingIntervalMs: 50, unit: 'kPa' },
  { nodeId: NODE.pumpStarts, name: 'pump-starts', samplingIntervalMs: 50, unit: '{count}' },
  { nodeId: NODE.pumpRunning, name: 'pump-running', samplingIntervalMs: 50 },
  { nodeId: NODE.mode, name: 'mode', samplingIntervalMs: 50 },
  { nodeId: NODE.firmware, name: 'firmware', samplingIntervalMs: 50 },
];

export function endpointOf(id: string, url: string, extra: Record<string, unknown> = {}) {
  return { id, url, publishingIntervalMs: 100, maxBackoffMs: 300, items: PLANT_ITEMS, ...extra };
}

const pkiDirs: string[] = [];

/** The worker's env: a temp PKI folder (see removePkiDirs), silent logs. */
export function workerEnv(natsUrl: string, endpoints: unknown[], extra: Record<string, string> = {}) {
  const pkiDir = mkdtempSync(join(tmpdir(), 'busway-opcua-client-pki-'));
  pkiDirs.push(pkiDir);
  return {
    NATS_URL: natsUrl,
    BUSWAY_LOG_LEVEL: 'silent',
    BUSWAY_PKI_DIR: pkiDir,
    BUSWAY_ENDPOINTS: JSON.stringify(endpoints),
    ...extra,
  };
}

/** Every message of a stream, in order. */
async function messagesOf(rt: WorkerRuntime, stream: string) {
  const info = await rt.jsm.streams.info(stream);
  const out = [];
  for (let seq = info.state.first_seq; info.state.messages > 0 && seq <= info.state.last_seq; seq++) {
    const m = await rt.jsm.streams.getMessage(stream, { seq }).catch(() => undefined);
    if (m) out.push(m);
  }
  return out;
}

export async function rawSamples(rt: WorkerRuntime): Promise<busway.v1.ISample[]> {
  const out: busway.v1.ISample[] = [];
  for (const m of await messagesOf(rt, 'RAW')) out.push(...busway.v1.SampleBatch.decode(m.data).samples);
  return out;
}

export async function samplesOf(rt: WorkerRuntime, pointId: string): Promise<busway.v1.ISample[]> {
  return (await rawSamples(rt)).filter((s) => s.pointId === pointId);
}

export async function deadLetters(rt: WorkerRuntime) {
  return (await messagesOf(rt, 'DLQ')).map((m) => ({
    code: m.header.get(Hdr.DlqCode),
    reason: m.header.get(Hdr.DlqReason),
    nodeId: m.header.get('opcua-node-id'),
    payload: JSON.parse(new TextDecoder().decode(m.data)) as Record<string, unknown>,
  }));
}

export function outcome(rt: WorkerRuntime, name: string): Promise<number> {
  return rt.metrics.value('busway_messages_total', { stage: 'ingest', outcome: name });
}

export function sampleCount(rt: WorkerRuntime, direction: string): Promise<number> {
  return rt.metrics.value('busway_samples_total', { stage: 'ingest', direction });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Deletes the PKI folders workerEnv made; call once the workers are stopped. */
export function removePkiDirs(): void {
  for (const dir of pkiDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}
