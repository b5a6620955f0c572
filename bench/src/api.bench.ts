import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Redis } from 'ioredis';
import { apiModule, hashToken } from '@busway/api';
import { fanoutModule } from '@busway/fanout';
import { busway, EventTypes, timeNsFromMs, unsSubject } from '@busway/proto';
import { fabricHeaders, runWorker, type WorkerRuntime } from '@busway/runtime';
import { freePort, startNats, startRedis, waitFor } from '@busway/testkit';
import type { BenchRow } from './normalizer.bench.js';

const run = promisify(execFile);
const TOKEN = 'bench-token-0123456789abcdef0123456789abcdef';

export interface ApiBenchOptions {
  /** Requests per second the load tool sends (all connections together). */
  rate: number;
  durationS: number;
  /** Points with a last value in Redis. */
  points: number;
  /** Samples pushed through fan-out to measure its rate. */
  fanoutSamples: number;
  /** The normalizer process's samples/s measured in the same run, if any: fan-out should keep up with it. */
  normalizerSamplesPerS?: number;
}

export const API_DEFAULTS: ApiBenchOptions = {
  rate: 1000,
  durationS: 10,
  points: 1000,
  fanoutSamples: 100_000,
};

interface Load {
  p50: number;
  p99: number;
  rate: number;
  failed: number;
}

/** autocannon in a second process, at a fixed overall rate; latencies in ms. */
async function load(url: string, o: ApiBenchOptions, token?: string): Promise<Load> {
  const bin = createRequire(import.meta.url).resolve('autocannon/autocannon.js');
  const args = [bin, '-j', '-c', '20', '-R', String(o.rate), '-d', String(o.durationS)];
  if (token) args.push('-H', `authorization=Bearer ${token}`);
  const { stdout } = await run(process.execPath, [...args, url], { maxBuffer: 16 * 2 ** 20 });
  const r = JSON.parse(stdout) as {
    latency: { p50: number; p99: number };
    requests: { average: number };
    non2xx: number;
    errors: number;
    timeouts: number;
  };
  return {
    p50: r.latency.p50,
    p99: r.latency.p99,
    rate: r.requests.average,
    failed: r.non2xx + r.errors + r.timeouts,
  };
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/**
 * REST current-value reads (`GET /v1/values?path=<one point>`) at a fixed rate from autocannon in a second
 * process, beside two baselines loaded the same way in the same run: a bare node:http server answering the
 * same JSON as a constant, and a bare node:http server doing the same Redis HGETALL. Then fan-out's rate
 * (ORDERED → stream UNS + Redis last values) with `fanoutSamples` samples.
 */
export async function benchApi(o: ApiBenchOptions = API_DEFAULTS): Promise<BenchRow[]> {
  const [nats, redisServer] = await Promise.all([startNats(), startRedis()]);
  const redis = new Redis(redisServer.url);
  const nc = await connect({ servers: nats.url });
  const workers: WorkerRuntime[] = [];
  const servers: Server[] = [];
  try {
    const env = {
      NATS_URL: nats.url,
      REDIS_URL: redisServer.url,
      BUSWAY_LOG_LEVEL: 'warn',
      BUSWAY_CONFIG: '',
    };
    workers.push((await runWorker(fanoutModule, { env, signals: false })).rt);
    const port = await freePort();
    const apiEnv = {
      ...env,
      BUSWAY_API_PORT: String(port),
      BUSWAY_API_HOST: '127.0.0.1',
      BUSWAY_TOKENS: JSON.stringify([{ name: 'bench', sha256: hashToken(TOKEN), scopes: ['read'] }]),
      BUSWAY_RATE_LIMIT_PER_S: '1000000',
    };
    workers.push((await runWorker(apiModule, { env: apiEnv, signals: false })).rt);

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

    const constant = createServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(body),
    );
    const direct = createServer((_req, res) => {
      redis.hgetall(`busway:lv:v1:${point}`).then(
        (h) =>
          res
            .writeHead(200, { 'content-type': 'application/json' })
            .end(JSON.stringify({ count: 1, values: [h] })),
        () => res.writeHead(503).end(),
      );
    });
    servers.push(constant, direct);
    const constantUrl = await listen(constant);
    const directUrl = await listen(direct);
    await load(url, { ...o, durationS: 2 }, TOKEN); // warm-up: JIT, connections
    const viaApi = await load(url, o, TOKEN);
    const bare = await load(constantUrl, o);
    const bareRedis = await load(directUrl, o);

    // fan-out's rate: every sample goes to stream UNS (PubAck) and to Redis before ORDERED is acked
    const jsm = await jetstreamManager(nc);
    const perBatch = 256;
    const batches = Math.ceil(o.fanoutSamples / perBatch);
    const started = performance.now();
    const pending: Promise<unknown>[] = [];
    for (let b = 0; b < batches; b++) {
      pending.push(publish(batch(b + 1, (b * perBatch) % o.points, Math.min(perBatch, o.points))));
      if (pending.length >= 64) await Promise.all(pending.splice(0));
    }
    await Promise.all(pending);
    await waitFor(
      'fan-out drained',
      async () => {
        const c = await jsm.consumers.info('ORDERED', 'fanout-samples');
        return c.num_pending === 0 && c.num_ack_pending === 0;
      },
      300_000,
      20,
    );
    const fanoutPerS = (batches * Math.min(perBatch, o.points)) / ((performance.now() - started) / 1000);

    const rows: BenchRow[] = [
      {
        name: `REST current-value read p99 (GET /v1/values, one point, ${o.rate} req/s from autocannon in a second process, ${o.durationS} s)`,
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
        name: `fan-out samples/s (ORDERED → stream UNS with PubAck + Redis last values; ${batches} batches of ${Math.min(perBatch, o.points)})`,
        value: fanoutPerS,
        unit: 'samples/s',
        ...(o.normalizerSamplesPerS
          ? {
              baseline: { name: 'normalizer process samples/s, same run', value: o.normalizerSamplesPerS },
              ratio: fanoutPerS / o.normalizerSamplesPerS,
              target: '>= 1 (keeps up with the normalizer)',
              pass: fanoutPerS >= o.normalizerSamplesPerS,
            }
          : {}),
      },
    ];
    return rows;
  } finally {
    for (const s of servers) s.close();
    for (const rt of workers.reverse()) await rt.stop();
    await nc.close();
    redis.disconnect();
    await Promise.all([nats.dispose(), redisServer.dispose()]);
  }
}
