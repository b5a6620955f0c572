// Helpers for the integration tests: a correlator process, NORM publishing, stream reading.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jetstream, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { announcedPort, Hdr, fabricHeaders } from '@busway/runtime';
import { waitFor } from '@busway/testkit';
import type { DeliveredMessage } from './harness.js';

const MAIN = fileURLToPath(new URL('../main.js', import.meta.url));

/** A correlator running as its own process, as a container runs it. */
export class CorrelatorProcess {
  private proc?: ChildProcess;
  port = 0;

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly logFile: string,
  ) {}

  async start(): Promise<void> {
    // the process binds any free port and writes it down: no port picked here for another process to take
    const portFile = `${this.logFile}.port`;
    rmSync(portFile, { force: true });
    this.port = 0;
    const log = createWriteStream(this.logFile, { flags: 'a' });
    this.proc = spawn(process.execPath, [MAIN], {
      env: { ...process.env, ...this.env, BUSWAY_HTTP_PORT: '0', BUSWAY_HTTP_PORT_FILE: portFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc.stdout?.pipe(log);
    this.proc.stderr?.pipe(log);
    await waitFor(
      `correlator ready (log ${this.logFile})`,
      async () => {
        if (this.proc?.exitCode != null) throw new Error(`exited with ${this.proc.exitCode}`);
        this.port = announcedPort(portFile) ?? 0;
        if (this.port === 0) return false;
        return (await fetch(`http://127.0.0.1:${this.port}/readyz`).catch(() => undefined))?.ok;
      },
      20_000,
      100,
    );
  }

  /** SIGKILL: a crash, no drain, no final checkpoint. */
  kill(): Promise<void> {
    return this.signal('SIGKILL');
  }

  /** SIGTERM: a graceful stop. */
  stop(): Promise<void> {
    return this.signal('SIGTERM');
  }

  async metrics(): Promise<string> {
    return (await fetch(`http://127.0.0.1:${this.port}/metrics`)).text();
  }

  private signal(sig: NodeJS.Signals): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      p.once('exit', () => resolve());
      p.kill(sig);
    });
  }
}

/** Publishes delivered messages to NORM in order, a window of them in flight at a time. */
export async function publishNorm(
  nc: NatsConnection,
  messages: DeliveredMessage[],
  window = 64,
): Promise<void> {
  const js = jetstream(nc);
  for (let i = 0; i < messages.length; i += window)
    await Promise.all(
      messages.slice(i, i + window).map((m, k) => {
        const id = `test-norm-${i + k}-${m.arrivalMs}`;
        return js.publish(m.subject, m.data, {
          headers: fabricHeaders({ type: m.type, source: '/test/normalizer', id }),
          msgID: id,
        });
      }),
    );
}

/** Every message of a stream under a subject prefix, with its headers' type and id. */
export async function readAll(
  nc: NatsConnection,
  jsm: JetStreamManager,
  stream: string,
  prefix = '',
): Promise<{ subject: string; data: Uint8Array; type: string; msgId: string }[]> {
  const info = await jsm.streams.info(stream);
  if (info.state.messages === 0) return [];
  const consumer = await jetstream(nc).consumers.get(stream);
  const out: { subject: string; data: Uint8Array; type: string; msgId: string }[] = [];
  const messages = await consumer.consume();
  for await (const m of messages) {
    if (m.subject.startsWith(prefix))
      out.push({
        subject: m.subject,
        data: m.data,
        type: m.headers?.get(Hdr.Type) ?? '',
        msgId: m.headers?.get(Hdr.MsgId) ?? '',
      });
    if (m.seq >= info.state.last_seq || m.info.pending === 0) break;
  }
  await messages.close();
  return out;
}

/** Sum of a Prometheus counter's samples whose labels include these. */
export function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

export const logPath = (dir: string, name: string) => join(dir, `${name}.log`);
