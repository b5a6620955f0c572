import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { busway, EventTypes, timeNsFromMs, unsSubject } from '@busway/proto';
import { parseSiteModel, publishSiteModel } from '@busway/registry';
import { fabricHeaders, Hdr, runWorker, type WorkerRuntime } from '@busway/runtime';
import { startNats, startRedis, waitFor, type TestServer } from '@busway/testkit';
import { durableOf, egressOtlpModule } from './index.js';
import { attrsOf, decodeProtobufRequest, encodePartialSuccess, type ExportRequest } from './otlp-proto.js';

const T = 1_800_000_000_000;
const gpuPath = { site: 'ai1', hall: 'h1', row: 'r1', rack: 'rack-1', assetClass: 'gpu', asset: 'gpu-3' };
const pduPath = { site: 'ai1', hall: 'h1', row: 'r1', rack: 'rack-1', assetClass: 'pdu', asset: 'pdu-1' };

/** A real OTLP/HTTP receiver: decodes each export with the official schema; answers as the test says. */
class OtlpReceiver {
  readonly exports: { request: ExportRequest; atMs: number }[] = [];
  answers: { status: number; headers?: Record<string, string>; body?: Uint8Array }[] = [];
  private server?: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const answer = this.answers.shift() ?? { status: 200 };
        if (req.headers['content-type'] === 'application/x-protobuf' && answer.status === 200)
          this.exports.push({ request: decodeProtobufRequest(Buffer.concat(chunks)), atMs: Date.now() });
        res
          .writeHead(answer.status, { 'content-type': 'application/x-protobuf', ...answer.headers })
          .end(answer.body ?? Buffer.alloc(0));
      });
    });
    await new Promise<void>((r) => this.server?.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1/metrics`;
  }

  points(metric: string) {
    return this.exports.flatMap(({ request }) =>
      request.resourceMetrics.flatMap((rm) =>
        rm.scopeMetrics.flatMap((sm) =>
          sm.metrics
            .filter((m) => m.name === metric)
            .flatMap((m) =>
              (m.gauge?.dataPoints ?? m.sum?.dataPoints ?? []).map((p) => ({
                resource: attrsOf(rm.resource.attributes),
                metric: m,
                point: p,
              })),
            ),
        ),
      ),
    );
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => this.server?.close(() => r()));
  }
}

describe('OTLP metrics egress against real nats-server, Redis (registry) and an OTLP/HTTP receiver', () => {
  let nats: TestServer;
  let redisServer: TestServer;
  let rt: WorkerRuntime;
  const rx = new OtlpReceiver();
  let n = 0;
  const publish = async (path: typeof gpuPath, metric: string, v: number, unit: string, t = T) => {
    const id = `s-${++n}`;
    const data = busway.v1.SampleBatch.encode({
      samples: [
        {
          pointId: `p:${path.asset}:${metric}`,
          path,
          metric,
          doubleValue: v,
          unit,
          eventTimeNs: timeNsFromMs(t),
        },
      ],
    }).finish();
    await rt.js.publish(unsSubject(path, metric), data, {
      headers: fabricHeaders({ type: EventTypes.SampleBatch, source: '/busway/fanout', id }),
      msgID: id,
    });
  };

  before(async () => {
    [nats, redisServer] = await Promise.all([startNats(), startRedis()]);
    await rx.start();
    const redis = new Redis(redisServer.url);
    await publishSiteModel(
      redis,
      parseSiteModel({
        site: 'ai1',
        assets: [
          { id: 'node-7', class: 'node', hall: 'h1', row: 'r1', rack: 'rack-1', name: 'dgx-07' },
          {
            id: 'gpu-3',
            class: 'gpu',
            hall: 'h1',
            row: 'r1',
            rack: 'rack-1',
            parent: 'node-7',
            name: 'GPU 3',
          },
          { id: 'pdu-1', class: 'pdu', hall: 'h1', row: 'r1', rack: 'rack-1' },
        ],
      }),
    );
    redis.disconnect();
    ({ rt } = await runWorker(egressOtlpModule, {
      env: {
        NATS_URL: nats.url,
        REDIS_URL: redisServer.url,
        BUSWAY_SITE: 'ai1',
        BUSWAY_LOG_LEVEL: 'silent',
        BUSWAY_OTLP_METRICS_URL: rx.url,
        BUSWAY_NAK_DELAY_MS: '100',
        BUSWAY_SERVICE_NAME: 'busway-ai1',
      },
      signals: false,
    }));
  });
  after(async () => {
    await rt.stop();
    await rx.stop();
    await Promise.all([nats.dispose(), redisServer.dispose()]);
  });

  it('exports samples as gauges and sums with units, event times and resource attributes from the registry', async () => {
    await publish(gpuPath, 'power.gpu', 612.5, 'W');
    await publish(pduPath, 'energy.active', 1234.5, 'kW.h');
    await waitFor(
      'both metrics',
      () => rx.points('busway.power.gpu').length > 0 && rx.points('busway.energy.active').length > 0,
    );
    const [gpu] = rx.points('busway.power.gpu');
    assert.equal(gpu?.point.asDouble, 612.5);
    assert.equal(gpu?.point.timeUnixNano, `${T}000000`);
    assert.equal(gpu?.metric.unit, 'W');
    assert.ok(gpu?.metric.gauge, 'a measurement is a gauge');
    assert.deepEqual(gpu?.resource, {
      'service.name': 'busway-ai1',
      'busway.site': 'ai1',
      'busway.hall': 'h1',
      'busway.row': 'r1',
      'busway.rack': 'rack-1',
      'busway.asset.class': 'gpu',
      'busway.asset.id': 'gpu-3',
      'busway.asset.name': 'GPU 3',
      'busway.asset.parent': 'node-7',
      'host.name': 'node-7',
    });
    const [energy] = rx.points('busway.energy.active');
    assert.equal(energy?.metric.unit, 'kW.h');
    assert.equal(energy?.metric.sum?.isMonotonic, true);
    assert.equal(energy?.metric.sum?.aggregationTemporality, 'AGGREGATION_TEMPORALITY_CUMULATIVE');
    assert.equal(energy?.resource['busway.asset.id'], 'pdu-1');
  });

  it('keeps the samples while the receiver answers 503, waits for Retry-After, and exports them when it recovers', async () => {
    rx.answers.push(
      { status: 503, headers: { 'retry-after': '1' } },
      { status: 503, headers: { 'retry-after': '1' } },
    );
    const before = rx.exports.length;
    const t0 = Date.now();
    await publish(pduPath, 'power.active', 7000, 'W', T + 1000);
    await waitFor('exported after two refusals', () => rx.points('busway.power.active').length > 0, 15_000);
    assert.ok(Date.now() - t0 >= 1800, 'waited Retry-After twice');
    assert.equal(rx.exports.length, before + 1);
    assert.equal(rx.points('busway.power.active')[0]?.point.asDouble, 7000);
    // The receiver records the export before it answers; the worker acks only once the answer is in.
    await waitFor(
      'the exported message acked',
      async () => (await rt.jsm.consumers.info('UNS', durableOf('uns.v1.>'))).num_ack_pending === 0,
    );
    assert.equal(rx.exports.length, before + 1, 'no second export of the same sample');
  });

  it('counts data points the receiver rejects in a partial success', async () => {
    rx.answers.push({ status: 200, body: encodePartialSuccess(1, 'out of order') });
    await publish(pduPath, 'power.active', 7100, 'W', T + 2000);
    await waitFor(
      'rejected counted',
      async () => (await rt.metrics.value('busway_otlp_points_total', { outcome: 'rejected' })) === 1,
    );
  });

  it('dead-letters an export the receiver refuses for good (400), with the status', async () => {
    rx.answers.push({ status: 400 });
    await publish(pduPath, 'power.active', 7200, 'W', T + 3000);
    const dead = await waitFor('dead letter', () =>
      rt.jsm.streams.getMessage('DLQ', { last_by_subj: 'dlq.v1.egress-otlp' }).catch(() => undefined),
    );
    assert.equal(dead.header.get(Hdr.DlqCode), 'otlp-400');
    assert.equal(dead.header.get(Hdr.DlqSubject), 'uns.v1.ai1.h1.r1.rack-1.pdu.pdu-1.power.active');
  });
});
