import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { busway, nowNs, timeNsFromMs } from '@busway/proto';
import { parseSiteModel, publishSiteModel, type SiteModel } from '@busway/registry';
import { normalizerModule } from '@busway/normalizer';
import { fabricHeaders, Hdr, runWorker, type WorkerRuntime } from '@busway/runtime';
import { startNats, startRedis, waitFor, type TestServer } from '@busway/testkit';

const BIN = fileURLToPath(new URL('./bin.js', import.meta.url));
const POINT = 'modbus:plc-1:hr40001';
const NORM_SUBJECT = 'norm.v1.samples.ai1.h1.r1.rack-1';

/** The site model with the point measuring `metric`: the operator's fix changes it. */
const siteModel = (metric: string): SiteModel =>
  parseSiteModel({
    site: 'ai1',
    assets: [{ id: 'pdu-1', class: 'pdu', hall: 'h1', row: 'r1', rack: 'rack-1' }],
    points: [{ pointId: POINT, asset: 'pdu-1', metric }],
  });

describe('busway dlq and busway redrive, with a real normalizer, nats-server and Redis', () => {
  let nats: TestServer;
  let redis: TestServer;
  let kv: Redis;
  let rt: WorkerRuntime;
  let wrong: number;
  const busway_ = (...args: string[]) => {
    const r = spawnSync(process.execPath, [BIN, ...args], {
      env: { ...process.env, NATS_URL: nats.url },
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trimEnd().split('\n');
  };

  before(async () => {
    [nats, redis] = await Promise.all([startNats(), startRedis()]);
    kv = new Redis(redis.url);
    // registered wrongly: the point reads kilowatts, the registry says it is a temperature
    wrong = await publishSiteModel(kv, siteModel('temperature.coolant.supply'));
    ({ rt } = await runWorker(normalizerModule, {
      env: { NATS_URL: nats.url, REDIS_URL: redis.url, BUSWAY_SITE: 'ai1', BUSWAY_LOG_LEVEL: 'silent' },
      signals: false,
    }));
  });
  after(async () => {
    await rt.stop();
    kv.disconnect();
    await Promise.all([nats.dispose(), redis.dispose()]);
  });

  it('lists the sample the registry made fail, and sends it back once the registry is fixed', async () => {
    const batch = busway.v1.SampleBatch.encode({
      samples: [
        { pointId: POINT, doubleValue: 12.5, unit: 'kW', eventTimeNs: timeNsFromMs(1_800_000_000_000) },
      ].map((s) => ({ ...s, ingestTimeNs: nowNs(), source: { sourceId: 'plc-1' } })),
    }).finish();
    const h = fabricHeaders({ type: 'busway.v1.SampleBatch', source: '/test', id: 'poll-1' });
    await rt.js.publish('raw.v1.samples.modbus.plc-1', batch, { headers: h, msgID: 'poll-1' });
    await waitFor('the dead letter', async () => (await rt.jsm.streams.info('DLQ')).state.messages === 1);

    const listed = busway_('dlq', 'normalizer', '--json').map(
      (l) => JSON.parse(l) as Record<string, unknown>,
    );
    assert.deepEqual(
      listed.map((l) => [l.seq, l.worker, l.code, l.origin]),
      [[1, 'normalizer', 'unit-mismatch', 'raw.v1.samples.modbus.plc-1']],
    );
    const payload = listed[0]?.payload as { pointId: string; value: number; unit: string }[];
    assert.deepEqual(
      payload.map((p) => [p.pointId, p.value, p.unit]),
      [[POINT, 12.5, 'kW']],
      'the rejected sample, decoded as it arrived',
    );
    assert.match(busway_('dlq').at(-1) ?? '', /^1 dead letter$/);
    assert.deepEqual(busway_('dlq', '--count', '0'), [
      '0 dead letters shown, the oldest; more are stored (--count N)',
    ]);
    const bad = spawnSync(process.execPath, [BIN, 'dlq', '--count', 'ten'], { encoding: 'utf8' });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /--count takes a whole number of 0 or more, not 'ten'/);
    assert.deepEqual(busway_('redrive', 'normalizer', '--dry-run'), [
      'would send back #1 to raw.v1.samples.modbus.plc-1 (unit-mismatch)',
      'would send back 1 dead letter of normalizer',
    ]);

    assert.equal(
      await rt.metrics.value('busway_registry_version', {}),
      wrong,
      'the version it loaded at start',
    );
    const fixed = await publishSiteModel(kv, siteModel('power.active')); // the fix
    // what an operator watches before sending anything back: the worker holds the fixed registry
    await waitFor(
      'the normalizer to hold the fixed registry',
      async () => (await rt.metrics.value('busway_registry_version', {})) === fixed,
    );
    assert.deepEqual(busway_('redrive', 'normalizer'), [
      'sent back #1 to raw.v1.samples.modbus.plc-1 (unit-mismatch)',
      'sent back 1 dead letter of normalizer',
    ]);
    const norm = await waitFor('the sample normalized', () =>
      rt.jsm.streams.getMessage('NORM', { last_by_subj: NORM_SUBJECT }).catch(() => undefined),
    );
    const out = busway.v1.SampleBatch.decode(norm.data).samples;
    assert.deepEqual(
      out.map((s) => [s.pointId, s.metric, s.doubleValue, s.unit]),
      [[POINT, 'power.active', 12_500, 'W']],
    );
    assert.match(
      norm.header.get(Hdr.MsgId),
      /^poll-1~redrive:normalizer:1:norm:ai1\.h1\.r1\.rack-1$/,
      "named by the event id it was sent back under, not the first attempt's",
    );
    await waitFor('the normalizer to acknowledge it', async () => {
      const c = await rt.jsm.consumers.info('RAW', 'normalizer');
      return c.num_pending === 0 && c.num_ack_pending === 0;
    });
    assert.deepEqual(busway_('dlq'), ['0 dead letters'], 'nothing left in the DLQ');
  });
});
