import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { busway, Subjects } from '@busway/proto';
import { Hdr, runWorker, type RunningWorker, type WorkerRuntime } from '@busway/runtime';
import type { ChassisState } from '@busway/simulator';
import { ingestRedfishModule } from './index.js';

// Helpers shared by the integration tests: start the bridge, read what it stored, make certificates.

export interface Batch {
  id: string;
  samples: busway.v1.ISample[];
}

export interface DeadLetter {
  origin: string;
  code: string;
  reason: string;
  body: string;
}

/** A node chassis with power and GPU temperatures. */
export function node(id: string, powerW: number, temps: number[] = [50, 51]): ChassisState {
  return {
    id,
    powerW,
    temperatures: temps.map((celsius, i) => ({ name: `GPU${i} Temp`, celsius })),
    fans: [],
  };
}

/** The bridge as a process runs it, silent, against one NATS server. */
export async function startBridge(
  natsUrl: string,
  endpoints: Record<string, unknown>[],
  env: Record<string, string> = {},
): Promise<{ rt: WorkerRuntime; worker: RunningWorker }> {
  return runWorker(ingestRedfishModule, {
    env: {
      NATS_URL: natsUrl,
      BUSWAY_LOG_LEVEL: 'silent',
      BUSWAY_ENDPOINTS: JSON.stringify(endpoints),
      ...env,
    },
    signals: false,
  });
}

/** Every SampleBatch of one endpoint on RAW, oldest first, with its message id. */
export async function batchesOf(rt: WorkerRuntime, endpoint: string): Promise<Batch[]> {
  const subject = Subjects.rawSamples('redfish', endpoint);
  return (await messagesOf(rt, 'RAW', subject)).map((m) => ({
    id: m.header.get(Hdr.MsgId),
    samples: busway.v1.SampleBatch.decode(m.data).samples,
  }));
}

export async function samplesOf(rt: WorkerRuntime, endpoint: string): Promise<busway.v1.ISample[]> {
  return (await batchesOf(rt, endpoint)).flatMap((b) => b.samples);
}

/** The ReportSequence of every stored batch, in order. */
export async function sequencesOf(rt: WorkerRuntime, endpoint: string): Promise<number[]> {
  return (await batchesOf(rt, endpoint)).map((b) => Number(b.samples[0]?.sequence?.toString() ?? -1));
}

/** The raw report bodies the bridge kept on AUDIT for an endpoint. */
export async function auditOf(rt: WorkerRuntime, endpoint: string): Promise<string[]> {
  return (await messagesOf(rt, 'AUDIT', Subjects.audit('redfish', endpoint))).map((m) =>
    new TextDecoder().decode(m.data),
  );
}

export async function deadLetters(rt: WorkerRuntime): Promise<DeadLetter[]> {
  return (await messagesOf(rt, 'DLQ', Subjects.deadLetter('ingest-redfish'))).map((m) => ({
    origin: m.header.get(Hdr.DlqSubject),
    code: m.header.get(Hdr.DlqCode),
    reason: m.header.get(Hdr.DlqReason),
    body: new TextDecoder().decode(m.data),
  }));
}

async function messagesOf(rt: WorkerRuntime, stream: string, subject: string) {
  const info = await rt.jsm.streams.info(stream, { subjects_filter: subject }).catch(() => undefined);
  if (!info || (info.state.subjects?.[subject] ?? 0) === 0) return [];
  const out = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const m = await rt.jsm.streams.getMessage(stream, { seq }).catch(() => null);
    if (m && m.subject === subject) out.push(m);
  }
  return out;
}

export const outcome = (rt: WorkerRuntime, name: string) =>
  rt.metrics.value('busway_messages_total', { stage: 'ingest', outcome: name });

/** A CA and a server certificate for 127.0.0.1 signed by it, made with the openssl binary (EC P-256). */
export function makeCertificates(): {
  dir: string;
  caFile: string;
  key: Buffer;
  cert: Buffer;
  otherCaFile: string;
} {
  const dir = mkdtempSync(join(tmpdir(), 'busway-redfish-tls-'));
  const at = (f: string) => join(dir, f);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    at('ca.key'),
    '-out',
    at('ca.crt'),
    '-subj',
    '/CN=Busway Test CA',
    '-days',
    '2',
  );
  openssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    at('other.key'),
    '-out',
    at('other.crt'),
    '-subj',
    '/CN=Other CA',
    '-days',
    '2',
  );
  writeFileSync(at('san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl('req', ...ec, '-keyout', at('bmc.key'), '-out', at('bmc.csr'), '-subj', '/CN=bmc');
  openssl(
    'x509',
    '-req',
    '-in',
    at('bmc.csr'),
    '-CA',
    at('ca.crt'),
    '-CAkey',
    at('ca.key'),
    '-CAcreateserial',
    '-out',
    at('bmc.crt'),
    '-days',
    '2',
    '-extfile',
    at('san.ext'),
  );
  return {
    dir,
    caFile: at('ca.crt'),
    key: readFileSync(at('bmc.key')),
    cert: readFileSync(at('bmc.crt')),
    otherCaFile: at('other.crt'),
  };
}
