import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { Redis } from 'ioredis';
import { Streams } from '@busway/proto';
import { fetchRegistry } from '@busway/registry';
import { connectCli } from '../nats-connect.js';

export interface ConsumerStatus {
  stream: string;
  durable: string;
  /** In the stream, not yet delivered to it: its lag. */
  pending: number;
  /** Delivered, not yet acknowledged. */
  ackPending: number;
  /** Pull requests waiting at the server: 0 means nobody is reading it. */
  waitingPulls: number;
  redelivered: number;
  /**
   * Messages wait and no pull asks for them, in two readings with nothing delivered between: its worker is down,
   * stalled or scaled to zero.
   */
  unread: boolean;
  /** Stream sequence of the last message delivered to it. */
  deliveredSeq: number;
}

export interface FabricStatus {
  streams: { name: string; messages: number; bytes: number; consumers: number }[];
  consumers: ConsumerStatus[];
  /** Dead letters stored, by the worker that made them. */
  deadLetters: Record<string, number>;
  /** The site model in Redis; undefined when Redis was not asked or not reachable. */
  registry?: { version: number; assets: number; points: number };
}

/** How long a consumer that looks unread is watched before it is flagged: a worker pulls again well within it. */
export const UNREAD_RECHECK_MS = 1000;

export interface StatusOptions {
  /** Between the two readings of a consumer that looks unread. @default a wait of UNREAD_RECHECK_MS */
  recheck?: () => Promise<void>;
}

/** What `busway status` reads: the fabric's streams and consumers from JetStream, the registry from Redis. */
export async function fabricStatus(
  natsUrl: string,
  redisUrl?: string,
  site = 'ai1',
  opts: StatusOptions = {},
): Promise<FabricStatus> {
  const nc = await connectCli(natsUrl, 'status');
  let status: FabricStatus;
  try {
    const jsm = await jetstreamManager(nc);
    status = await jetstreamStatus(jsm);
    await confirmUnread(jsm, status.consumers, opts.recheck);
  } finally {
    await nc.close();
  }
  if (redisUrl) status.registry = await registryStatus(redisUrl, site);
  return status;
}

async function jetstreamStatus(jsm: JetStreamManager): Promise<FabricStatus> {
  const status: FabricStatus = { streams: [], consumers: [], deadLetters: {} };
  for await (const s of jsm.streams.list()) {
    const { name } = s.config;
    status.streams.push({
      name,
      messages: s.state.messages,
      bytes: s.state.bytes,
      consumers: s.state.consumer_count,
    });
    for await (const c of jsm.consumers.list(name)) {
      if (!c.config.durable_name) continue; // ordered consumers of readers (tail, history queries) come and go
      status.consumers.push({
        stream: name,
        durable: c.name,
        pending: c.num_pending,
        ackPending: c.num_ack_pending,
        waitingPulls: c.num_waiting,
        redelivered: c.num_redelivered,
        unread: c.num_pending > 0 && c.num_waiting === 0 && c.num_ack_pending === 0,
        deliveredSeq: c.delivered.stream_seq,
      });
    }
  }
  status.streams.sort((a, b) => a.name.localeCompare(b.name));
  status.consumers.sort((a, b) => `${a.stream}/${a.durable}`.localeCompare(`${b.stream}/${b.durable}`));
  if (status.streams.some((s) => s.name === Streams.DeadLetter.name)) {
    const dlq = await jsm.streams.info(Streams.DeadLetter.name, { subjects_filter: 'dlq.v1.>' });
    for (const [subject, count] of Object.entries(dlq.state.subjects ?? {}))
      status.deadLetters[subject.slice('dlq.v1.'.length)] = count;
  }
  return status;
}

/**
 * One reading catches a working consumer between two pulls as often as a stopped one: each that looked unread is
 * read again after a while and stays flagged only if it is still unread and has been delivered nothing since.
 */
async function confirmUnread(
  jsm: JetStreamManager,
  consumers: ConsumerStatus[],
  recheck = () => new Promise<void>((resolve) => setTimeout(resolve, UNREAD_RECHECK_MS)),
): Promise<void> {
  const suspects = consumers.filter((c) => c.unread);
  if (suspects.length === 0) return;
  await recheck();
  for (const c of suspects) {
    const now = await jsm.consumers.info(c.stream, c.durable).catch(() => undefined);
    c.unread =
      now !== undefined &&
      now.delivered.stream_seq === c.deliveredSeq &&
      now.num_pending > 0 &&
      now.num_waiting === 0 &&
      now.num_ack_pending === 0;
  }
}

async function registryStatus(redisUrl: string, site: string): Promise<FabricStatus['registry']> {
  // one attempt: a status that hangs on an unreachable Redis tells the operator nothing
  const redis = new Redis(redisUrl, {
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    lazyConnect: true,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    const r = await fetchRegistry(redis, site);
    return { version: r.version, assets: r.model.assets.length, points: r.model.points.length };
  } catch {
    return undefined;
  } finally {
    redis.disconnect();
  }
}

/** The status as an operator reads it: one line per stream and per consumer, what needs a look flagged. */
export function formatStatus(s: FabricStatus): string[] {
  const lines = ['stream             messages         bytes  consumers'];
  for (const st of s.streams)
    lines.push(
      `${st.name.padEnd(16)} ${String(st.messages).padStart(10)} ${String(st.bytes).padStart(13)} ${String(st.consumers).padStart(10)}`,
    );
  lines.push('', 'consumer                              pending  ack pending  waiting pulls  redelivered');
  for (const c of s.consumers)
    lines.push(
      `${`${c.stream}/${c.durable}`.padEnd(36)} ${String(c.pending).padStart(8)} ${String(c.ackPending).padStart(12)} ${String(c.waitingPulls).padStart(14)} ${String(c.redelivered).padStart(12)}${c.unread ? '  UNREAD: no pull waiting; is its worker running?' : ''}`,
    );
  const dead = Object.entries(s.deadLetters);
  lines.push(
    '',
    dead.length === 0
      ? 'dead letters: none'
      : `dead letters: ${dead.map(([w, n]) => `${w} ${n}`).join(', ')} (read them: busway dlq <worker>)`,
  );
  lines.push(
    s.registry
      ? `registry: version ${s.registry.version}, ${s.registry.assets} assets, ${s.registry.points} points`
      : 'registry: not read (Redis unreachable)',
  );
  return lines;
}
