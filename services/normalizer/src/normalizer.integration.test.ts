import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { busway, EventTypes, timeNsFromMs, nowNs } from '@busway/proto';
import { parseSiteModel, publishSiteModel } from '@busway/registry';
import { fabricHeaders, Hdr, runWorker, type WorkerRuntime } from '@busway/runtime';
import { startNats, startRedis, waitFor, type TestServer } from '@busway/testkit';
import { normalizerModule } from './index.js';

describe('normalizer against real nats-server and Redis', () => {
  let nats: TestServer;
  let redis: TestServer;
  let rt: WorkerRuntime;

  before(async () => {
    [nats, redis] = await Promise.all([startNats(), startRedis()]);
    const conn = new Redis(redis.url);
    await publishSiteModel(
      conn,
      parseSiteModel({
        site: 'ai1',
        assets: [{ id: 'cdu-1', class: 'cdu', hall: 'h1', row: 'r1', rack: 'plant-r1' }],
        points: [
          { pointId: 'sparkplug:g/e/cdu-1:Supply', asset: 'cdu-1', metric: 'temperature.coolant.supply' },
        ],
      }),
    );
    conn.disconnect();
    ({ rt } = await runWorker(normalizerModule, {
      env: { NATS_URL: nats.url, REDIS_URL: redis.url, BUSWAY_SITE: 'ai1', BUSWAY_LOG_LEVEL: 'silent' },
      signals: false,
    }));
  });
  after(async () => {
    await rt.stop();
    await Promise.all([nats.dispose(), redis.dispose()]);
  });

  it('normalizes a batch, dead-letters its one bad sample alone, and poisons an undecodable message', async () => {
    const t = timeNsFromMs(1_800_000_000_000);
    const sample = (v: number, unit: string) => ({
      pointId: 'sparkplug:g/e/cdu-1:Supply',
      doubleValue: v,
      unit,
      eventTimeNs: t,
      ingestTimeNs: nowNs(),
      source: { sourceId: 'g/e/cdu-1' },
    });
    const batch = busway.v1.SampleBatch.encode({ samples: [sample(86, 'degF'), sample(3, 'kW')] }).finish();
    const h = fabricHeaders({ type: EventTypes.SampleBatch, source: '/test', id: 'in-1' });
    await rt.js.publish('raw.v1.samples.sparkplug.g-e', batch, { headers: h, msgID: 'in-1' });
    const junk = fabricHeaders({ type: EventTypes.SampleBatch, source: '/test', id: 'in-2' });
    await rt.js.publish('raw.v1.samples.sparkplug.g-e', new Uint8Array([0x0a, 0xff, 0xff, 0xff]), {
      headers: junk,
      msgID: 'in-2',
    });

    const norm = await waitFor('normalized batch', () =>
      rt.jsm.streams
        .getMessage('NORM', { last_by_subj: 'norm.v1.samples.ai1.h1.r1.plant-r1' })
        .catch(() => undefined),
    );
    const out = busway.v1.SampleBatch.decode(norm.data).samples;
    assert.equal(out.length, 1);
    assert.equal(out[0]?.unit, 'Cel');
    assert.ok(Math.abs((out[0]?.doubleValue ?? 0) - 30) < 1e-9);
    assert.equal(norm.header.get(Hdr.MsgId), 'in-1:norm:ai1.h1.r1.plant-r1');

    const dead = await waitFor('two dead letters', async () =>
      (await rt.jsm.streams.info('DLQ')).state.messages >= 2 ? true : undefined,
    );
    assert.ok(dead);
    const first = await rt.jsm.streams.getMessage('DLQ', { seq: 1 });
    const second = await rt.jsm.streams.getMessage('DLQ', { seq: 2 });
    const codes = [first?.header.get(Hdr.DlqCode), second?.header.get(Hdr.DlqCode)].sort();
    assert.deepEqual(codes, ['decode-error', 'unit-mismatch']);
    const unitLetter = [first, second].find((m) => m?.header.get(Hdr.DlqCode) === 'unit-mismatch');
    assert.equal(
      busway.v1.SampleBatch.decode(unitLetter?.data ?? new Uint8Array()).samples[0]?.unit,
      'kW',
      'the dead letter holds the rejected sample',
    );
    await waitFor('consumer drained', async () => {
      const info = await rt.jsm.consumers.info('RAW', 'normalizer');
      return info.num_pending === 0 && info.num_ack_pending === 0;
    });
  });
});
