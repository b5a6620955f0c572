import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Redis } from 'ioredis';
import { hashToken } from '@busway/api';
import { Supervisor } from '@busway/cli';
import { busway, EventTypes, timeNsFromMs, unsSubject } from '@busway/proto';
import { fabricHeaders } from '@busway/runtime';
import { freePort, startNats, startRedis, waitFor } from '@busway/testkit';
import type { BenchRow } from './normalizer.bench.js';
import type { PacedLoadResult } from './paced-load.js';

const run = promisify(execFile);
const TOKEN = 'bench-token-0123456789abcdef0123456789abcdef';

export interface ApiBenchOptions {
  /** Requests per second the load tool sends (all connections together). */
  rate: number;
  durationS: number;
  /** Points with a last value in Redis. */
  points: number;
  /** Seconds fan-out is fed at the normalizer's rate. */
  fanoutFeedS: number;
  /** The normalizer process's samples/s measured in the same run, if any: fan-out should keep up with it. */
  normalizerSamplesPerS?: number;
}

export const API_DEFAULTS: ApiBenchOptions = {
  rate: 1000,
  durationS: 10,
  points: 1000,
  fanoutFeedS: 10,
};

interface Feed {
  rate: number;
  deliveredPerS: number;
  peakBacklog: number;
  backlogAtEnd: number;
  drainMs: number;
}

/**
 * Publishes `rate` samples/s in batches for `seconds`, paced on a 10 ms tick (at most 64 publishes in flight),
 * reading the consumer's backlog every 500 ms; then waits for it to drain.
 */
async function feedAtRate(f: {
  rate: number;
  seconds: number;
  perBatch: number;
  /** Encoded before the feed starts, so that encoding does not slow the pacing. */
  batches: (count: number, size: number) => Uint8Array[];
  publish: (data: Uint8Array) => Promise<unknown>;
  backlog: () => Promise<number>;
}): Promise<Feed> {
  const total = Math.round((f.rate * f.seconds) / f.perBatch);
  const batches = f.batches(total, f.perBatch);
  const inFlight = new Set<Promise<unknown>>();
  let peakBacklog = 0;
  let lastRead = 0;
  const started = performance.now();
  for (let sent = 0; sent < total;) {
    const due = Math.min(total, Math.floor(((performance.now() - started) * f.rate) / 1000 / f.perBatch) + 1);
    while (sent < due && inFlight.size < 64) {
      const p = f.publish(batches[sent++] as Uint8Array).finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    if (performance.now() - lastRead > 500) {
      lastRead = performance.now();
      peakBacklog = Math.max(peakBacklog, await f.backlog());
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  await Promise.all(inFlight);
  const fedAt = performance.now();
  const backlogAtEnd = await f.backlog();
  await waitFor('fan-out drained', async () => (await f.backlog()) === 0, 300_000, 20);
  const drainedAt = performance.now();
  return {
    rate: f.rate,
    deliveredPerS: (total * f.perBatch) / ((drainedAt - started) / 1000),
    peakBacklog: Math.max(peakBacklog, backlogAtEnd),
    backlogAtEnd,
    drainMs: drainedAt - fedAt,
  };
}

/** The paced (open-loop) load tool in a second process; latencies in ms from each request's due time. */
async function load(url: string, o: ApiBenchOptions, token?: string): Promise<PacedLoadResult> {
  const tool = fileURLToPath(new URL('./paced-load.js', import.meta.url));
  const args = [tool, url, String(o.rate), String(o.durationS)];
  if (token) args.push(`authorization=Bearer ${token}`);
  const { stdout } = await run(process.execPath, args, { maxBuffer: 2 ** 20 });
  return JSON.parse(stdout) as PacedLoadResult;
}

/** Starts a baseline server (baseline-server.ts) in a process of its own; resolves to its URL. */
async function baseline(children: ChildProcess[], args: string[]): Promise<string> {
  const script = fileURLToPath(new URL('./baseline-server.js', import.meta.url));
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const [line] = (await once(child.stdout, 'data')) as [Buffer];
  return `http://127.0.0.1:${line.toString().trim()}`;
}

/**
 * REST current-value reads (`GET /v1/values?path=<one point>`) at a fixed, evenly paced rate from a second
 * process (paced-load.ts), beside two baselines loaded the same way in the same run, each in its own process like
 * the API: a bare node:http server answering the same JSON as a constant, and one doing the same Redis HGETALL. Then fan-out's rate
 * fed at the normalizer's rate for `fanoutFeedS` seconds (ORDERED → stream UNS + Redis last values).
 */
export async function benchApi(o: ApiBenchOptions = API_DEFAULTS): Promise<BenchRow[]> {
  const [nats, redisServer] = await Promise.all([startNats(), startRedis()]);
  const redis = new Redis(redisServer.url);
  const nc = await connect({ servers: nats.url });
  const children: ChildProcess[] = [];
  // fan-out and the API each in a process of its own, as deployed: the bench's own work does not slow them
  const sup = new Supervisor({ ...process.env }, mkdtempSync(join(tmpdir(), 'busway-bench-api-')));
  try {
    const env = {
      NATS_URL: nats.url,
      REDIS_URL: redisServer.url,
      BUSWAY_LOG_LEVEL: 'warn',
      BUSWAY_CONFIG: '',
    };
    await sup.start('fanout', env);
    const port = await freePort();
    const apiEnv = {
      ...env,
      BUSWAY_API_PORT: String(port),
      BUSWAY_API_HOST: '127.0.0.1',
      BUSWAY_TOKENS: JSON.stringify([{ name: 'bench', sha256: hashToken(TOKEN), scopes: ['read'] }]),
      BUSWAY_RATE_LIMIT_PER_S: '1000000',
    };
    await sup.start('api', apiEnv);
    await sup.waitReady();

    // last values for `points` points, written by the real fan-out
    const js = jetstream(nc);
    const t0 = Date.now();
    const path = (i: number) => ({
      site: 'bench',
      hall: 'h1',
      row: `r${i % 10}`,
      rack: `rack-${i % 100}`,
      assetClass: 'pdu',
      asset: `pdu-${i}`,
    });
    const batch = (round: number, from: number, count: number) =>
      busway.v1.SampleBatch.encode({
        samples: Array.from({ length: count }, (_, k) => ({
          pointId: `bench:pdu-${from + k}:power`,
          path: path(from + k),
          metric: 'power.active',
          doubleValue: 1000 + k + round,
          unit: 'W',
          eventTimeNs: timeNsFromMs(t0 + round),
        })),
      }).finish();
    let n = 0;
    const publish = (data: Uint8Array) => {
      const id = `bench-${n++}`;
      return js.publish('ordered.v1.samples.bench', data, {
        headers: fabricHeaders({ type: EventTypes.SampleBatch, source: '/bench', id }),
        msgID: id,
      });
    };
    for (let i = 0; i < o.points; i += 250) await publish(batch(0, i, Math.min(250, o.points - i)));
    const point = unsSubject(path(7), 'power.active');
    const url = `http://127.0.0.1:${port}/v1/values?path=${point}`;
    await waitFor(
      'last values in Redis',
      async () => (await redis.scard('busway:lv:v1:index')) === o.points,
      60_000,
    );
    const body = await (await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } })).text();

    const constantUrl = await baseline(children, ['constant', body]);
    const directUrl = await baseline(children, ['redis', redisServer.url, `busway:lv:v1:${point}`]);
    await load(url, { ...o, durationS: 2 }, TOKEN); // warm-up: JIT, connections
    const viaApi = await load(url, o, TOKEN);
    const bare = await load(constantUrl, o);
    const bareRedis = await load(directUrl, o);

    // fan-out fed at the normalizer's rate, paced; every sample goes to stream UNS (PubAck) and Redis before
    // ORDERED is acked. It keeps up if its backlog stays small and is gone soon after the feed stops.
    const jsm = await jetstreamManager(nc);
    const feed = await feedAtRate({
      rate: o.normalizerSamplesPerS ?? 80_000,
      seconds: o.fanoutFeedS,
      perBatch: Math.min(256, o.points),
      batches: (count, size) =>
        Array.from({ length: count }, (_, b) => batch(b + 1, (b * size) % o.points, size)),
      publish,
      backlog: async () => {
        const c = await jsm.consumers.info('ORDERED', 'fanout-samples');
        return (c.num_pending + c.num_ack_pending) * Math.min(256, o.points);
      },
    });

    const rows: BenchRow[] = [
      {
        name: `REST current-value read p99 (GET /v1/values, one point, ${o.rate} req/s paced from a second process, ${o.durationS} s)`,
        value: viaApi.p99,
        unit: 'ms',
        baseline: { name: 'bare node:http constant', value: bare.p99 },
        ratio: bare.p99 > 0 ? viaApi.p99 / bare.p99 : undefined,
        target: '< 10 ms',
        pass: viaApi.p99 < 10 && viaApi.failed === 0,
      },
      {
        name: 'REST current-value read p50, same run',
        value: viaApi.p50,
        unit: 'ms',
        baseline: { name: 'bare node:http constant', value: bare.p50 },
      },
      {
        name: 'bare node:http + Redis HGETALL p99 (what the API adds to the cache read)',
        value: bareRedis.p99,
        unit: 'ms',
      },
      {
        name: 'REST reads answered per second (rate held)',
        value: viaApi.rate,
        unit: 'req/s',
        target: `${o.rate}`,
      },
      {
        name: 'REST reads failed (non-2xx, errors, timeouts)',
        value: viaApi.failed,
        unit: '',
        target: '0',
        pass: viaApi.failed === 0,
      },
      {
        name: `fan-out fed at the normalizer's rate for ${o.fanoutFeedS} s (ORDERED → stream UNS with PubAck + Redis last values): samples/s delivered, feed to drained`,
        value: feed.deliveredPerS,
        unit: 'samples/s',
        baseline: { name: 'feed rate = normalizer process samples/s, same run', value: feed.rate },
        ratio: feed.deliveredPerS / feed.rate,
        target: '>= 0.95 (keeps up with the normalizer)',
        pass: feed.deliveredPerS >= 0.95 * feed.rate,
      },
      {
        name: 'fan-out backlog, highest while fed / when the feed stopped',
        value: feed.peakBacklog,
        unit: `samples / ${feed.backlogAtEnd}`,
      },
      { name: 'fan-out drain time after the feed stopped', value: feed.drainMs, unit: 'ms' },
    ];
    return rows;
  } finally {
    for (const c of children) c.kill();
    await sup.stopAll(['api', 'fanout']);
    await nc.close();
    redis.disconnect();
    await Promise.all([nats.dispose(), redisServer.dispose()]);
  }
}
