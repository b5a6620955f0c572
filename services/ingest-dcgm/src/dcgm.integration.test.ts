import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { busway } from '@busway/proto';
import { fetchRegistry, parseSiteModel, publishSiteModel } from '@busway/registry';
import { runWorker, type WorkerRuntime } from '@busway/runtime';
import { normalizerModule } from '@busway/normalizer';
import { DcgmExporter } from '@busway/simulator';
import { startNats, startRedis, waitFor, type TestServer } from '@busway/testkit';
import { ingestDcgmModule } from './index.js';
import { batchesIn, deadLetters, outcome, samplesIn } from './test-fixtures.js';

const SITE_MODEL = parseSiteModel({
  site: 'ai1',
  assets: [
    { id: 'rack-a', class: 'rack', hall: 'h1', row: 'r1', rack: 'rack-a' },
    { id: 'rack-b', class: 'rack', hall: 'h1', row: 'r2', rack: 'rack-b' },
    { id: 'gpu07', class: 'node', hall: 'h1', row: 'r1', rack: 'rack-a', parent: 'rack-a' },
    { id: 'gpu08', class: 'node', hall: 'h1', row: 'r2', rack: 'rack-b', parent: 'rack-b' },
  ],
});
const Q = busway.v1.Quality;

describe('DCGM bridge against a dcgm-exporter endpoint, with a real nats-server, Redis and the normalizer', () => {
  let nats: TestServer;
  let redis: TestServer;
  let conn: Redis;
  let exporter: DcgmExporter;
  let bridge: WorkerRuntime;
  let normalizer: WorkerRuntime;

  before(async () => {
    [nats, redis] = await Promise.all([startNats(), startRedis()]);
    conn = new Redis(redis.url);
    await publishSiteModel(conn, SITE_MODEL);
    exporter = await DcgmExporter.start();
    for (const [host, index, watts] of [
      ['gpu07', 0, 612.5],
      ['gpu07', 1, 88.25],
      ['gpu08', 0, 401],
      ['gpu99', 0, 300],
    ] as const) {
      exporter.set(host, index, 'DCGM_FI_DEV_POWER_USAGE', watts);
      exporter.set(host, index, 'DCGM_FI_DEV_GPU_TEMP', 70 + index);
      exporter.set(host, index, 'DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION', 3_600_000_000); // 1 kWh in mJ
      exporter.set(host, index, 'DCGM_FI_DEV_FB_USED', 1024);
      exporter.set(host, index, 'DCGM_FI_DEV_XID_ERRORS', 0);
    }
    const env = {
      NATS_URL: nats.url,
      REDIS_URL: redis.url,
      BUSWAY_SITE: 'ai1',
      BUSWAY_LOG_LEVEL: 'silent',
      BUSWAY_TARGETS: JSON.stringify([
        { id: 'fleet', url: exporter.url, pollIntervalMs: 250, timeoutMs: 1000, maxBackoffMs: 1000 },
      ]),
    };
    ({ rt: normalizer } = await runWorker(normalizerModule, { env, signals: false }));
    ({ rt: bridge } = await runWorker(ingestDcgmModule, { env, signals: false }));
  });

  after(async () => {
    await bridge?.stop();
    await normalizer?.stop();
    await exporter?.close();
    conn?.disconnect();
    await Promise.all([nats?.dispose(), redis?.dispose()]);
  });

  it("places each GPU under its node in the registry, and a sample comes out of the normalizer in the GPU's rack", async () => {
    const placed = await waitFor('gpu07 GPU 0 power in rack-a', async () => {
      const samples = await samplesIn(bridge, 'NORM', 'norm.v1.samples.ai1.h1.r1.rack-a');
      return samples.find(
        (s) => s.metric === 'power.gpu' && s.path?.asset === 'gpu07-gpu0' && !s.unregistered,
      );
    });
    assert.deepEqual(
      { ...placed.path },
      {
        site: 'ai1',
        hall: 'h1',
        row: 'r1',
        rack: 'rack-a',
        assetClass: 'gpu',
        asset: 'gpu07-gpu0',
      },
    );
    assert.equal(placed.doubleValue, 612.5);
    assert.equal(placed.unit, 'W');
    const registry = await fetchRegistry(conn, 'ai1');
    assert.equal(registry.asset('gpu07-gpu1')?.parent, 'gpu07');
    assert.equal(registry.asset('gpu08-gpu0')?.rack, 'rack-b');
    assert.match(registry.asset('gpu07-gpu0')?.name ?? '', /^GPU-[0-9a-f]{8}-/);
    assert.equal(registry.point('dcgm:gpu08:gpu0/DCGM_FI_DEV_GPU_TEMP')?.metric, 'temperature.gpu.die');
  });

  it('converts to canonical units in the normalizer: the energy counter to kWh, framebuffer MiB to bytes', async () => {
    const rackB = await waitFor('gpu08 energy and memory in rack-b', async () => {
      const samples = await samplesIn(bridge, 'NORM', 'norm.v1.samples.ai1.h1.r2.rack-b');
      const energy = samples.find((s) => s.metric === 'energy.gpu' && !s.unregistered);
      const memory = samples.find((s) => s.metric === 'data.gpu.memory.used' && !s.unregistered);
      return energy && memory ? { energy, memory } : undefined;
    });
    assert.ok(Math.abs((rackB.energy.doubleValue ?? 0) - 1) < 1e-9);
    assert.equal(rackB.energy.unit, 'kW.h');
    assert.ok(rackB.energy.flags?.includes('counter'));
    assert.equal(rackB.memory.doubleValue, 1024 * 1024 * 1024);
    assert.equal(rackB.memory.unit, 'By');
  });

  it('publishes one batch per node per scrape, and keeps a node the registry does not know unregistered', async () => {
    const raw = await batchesIn(bridge, 'RAW', 'raw.v1.samples.dcgm.>');
    const subjects = new Set(raw.map((b) => b.subject));
    assert.deepEqual([...subjects].sort(), [
      'raw.v1.samples.dcgm.gpu07',
      'raw.v1.samples.dcgm.gpu08',
      'raw.v1.samples.dcgm.gpu99',
    ]);
    assert.match(raw[0]?.id ?? '', /^dcgm:gpu0[789]@\d+$/);
    const stray = await waitFor('gpu99 normalized', async () =>
      (await samplesIn(bridge, 'NORM', 'norm.v1.samples.ai1._._._')).find((s) =>
        s.pointId?.startsWith('dcgm:gpu99:'),
      ),
    );
    assert.equal(stray.unregistered, true);
    assert.equal((await fetchRegistry(conn, 'ai1')).asset('gpu99-gpu0'), undefined);
  });

  it('merges the GPUs again when a site model is published afresh without them', async () => {
    await publishSiteModel(conn, SITE_MODEL);
    assert.equal((await fetchRegistry(conn, 'ai1')).asset('gpu07-gpu0'), undefined);
    await waitFor(
      'GPUs merged again',
      async () => (await fetchRegistry(conn, 'ai1')).asset('gpu07-gpu0'),
      10_000,
    );
  });

  it('keeps each exposition on AUDIT as it arrived', async () => {
    const info = await bridge.jsm.streams.info('AUDIT', { subjects_filter: 'audit.v1.dcgm.fleet' });
    assert.ok((info.state.subjects?.['audit.v1.dcgm.fleet'] ?? 0) > 0);
    const m = await bridge.jsm.streams.getMessage('AUDIT', { last_by_subj: 'audit.v1.dcgm.fleet' });
    const [copy] = JSON.parse(new TextDecoder().decode(m?.data)) as { body: string; status: number }[];
    assert.equal(copy?.status, 200);
    assert.match(copy?.body ?? '', /^# HELP DCGM_FI_DEV_GPU_TEMP GPU temperature \(in C\)\./m);
  });

  it('dead-letters a malformed line once with its reason, while the rest of every scrape still flows', async () => {
    const before = (await deadLetters(bridge)).length;
    const scrapes = exporter.scrapes;
    exporter.extraText = 'DCGM_FI_DEV_GPU_TEMP{gpu="3",Hostname="gpu07" 55\n';
    await waitFor('four more scrapes', () => exporter.scrapes >= scrapes + 4, 10_000, 50);
    const dead = (await deadLetters(bridge)).slice(before);
    assert.equal(dead.length, 1, 'one dead letter, not one per scrape');
    assert.equal(dead[0]?.code, 'decode-error');
    assert.match(dead[0]?.reason ?? '', /do not parse \(bad-label\)/);
    assert.equal(dead[0]?.origin, `dcgm:${exporter.url}`);
    assert.ok((await outcome(bridge, 'malformed-line')) >= 4);
    const rawCount = (await batchesIn(bridge, 'RAW', 'raw.v1.samples.dcgm.gpu07')).length;
    await waitFor(
      'gpu07 keeps flowing',
      async () => (await batchesIn(bridge, 'RAW', 'raw.v1.samples.dcgm.gpu07')).length > rawCount,
    );
    exporter.extraText = '';
  });

  it('sends bad samples for every known point while the exporter fails, dead-letters the status once, then recovers', async () => {
    const before = (await deadLetters(bridge)).length;
    const since = Date.now();
    exporter.failWith = 503;
    const bad = await waitFor('read-failed samples', async () => {
      const list = (await samplesIn(bridge, 'RAW', 'raw.v1.samples.dcgm.gpu08')).filter(
        (s) => s.quality === Q.QUALITY_BAD && s.flags?.includes('read-failed') && Number(s.sequence) >= since,
      );
      return list.length > 0 ? list : undefined;
    });
    // gpu08 served five fields: every one of them is marked bad in the failed scrape
    assert.deepEqual([...new Set(bad.map((s) => s.pointId?.split('/')[1]))].sort(), [
      'DCGM_FI_DEV_FB_USED',
      'DCGM_FI_DEV_GPU_TEMP',
      'DCGM_FI_DEV_POWER_USAGE',
      'DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION',
      'DCGM_FI_DEV_XID_ERRORS',
    ]);
    assert.ok(bad.every((s) => s.doubleValue == null && s.intValue == null));
    await waitFor('a second failed scrape', async () => (await outcome(bridge, 'read-failed')) >= 2);
    const dead = (await deadLetters(bridge)).slice(before);
    assert.deepEqual(
      dead.map((d) => d.code),
      ['http-error'],
    );
    exporter.failWith = undefined;
    const back = Date.now();
    await waitFor('good samples again', async () =>
      (await samplesIn(bridge, 'RAW', 'raw.v1.samples.dcgm.gpu08')).some(
        (s) => s.quality === Q.QUALITY_GOOD && Number(s.sequence) >= back,
      ),
    );
  });
});
