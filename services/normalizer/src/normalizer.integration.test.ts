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

  it('delivers an unregistered point under a derived path, flagged, and re-maps it once the registry learns it', async () => {
    const send = async (n: number) => {
      const id = `unreg-${n}`;
      const data = busway.v1.SampleBatch.encode({
        samples: [
          {
            pointId: 'sparkplug:g/e/pump-9:Speed',
            doubleValue: 1500 + n,
            unit: 'RPM',
            eventTimeNs: timeNsFromMs(1_800_000_000_000 + n),
            ingestTimeNs: nowNs(),
            source: { sourceId: 'g/e/pump-9' },
          },
        ],
      }).finish();
      await rt.js.publish('raw.v1.samples.sparkplug.g-e', data, {
        headers: fabricHeaders({ type: EventTypes.SampleBatch, source: '/test', id }),
        msgID: id,
      });
    };
    await send(0);
    const before = await waitFor('the unregistered sample', () =>
      rt.jsm.streams.getMessage('NORM', { last_by_subj: 'norm.v1.samples.ai1._._._' }).catch(() => undefined),
    );
    const flagged = busway.v1.SampleBatch.decode(before.data).samples[0];
    assert.equal(flagged?.unregistered, true);
    assert.equal(flagged?.path?.assetClass, 'unregistered');
    assert.equal(flagged?.metric, 'speed');

    const conn = new Redis(redis.url);
    await publishSiteModel(
      conn,
      parseSiteModel({
        site: 'ai1',
        assets: [
          { id: 'cdu-1', class: 'cdu', hall: 'h1', row: 'r1', rack: 'plant-r1' },
          { id: 'pump-9', class: 'pump', hall: 'h1', row: 'r1', rack: 'plant-r1' },
        ],
        points: [
          { pointId: 'sparkplug:g/e/cdu-1:Supply', asset: 'cdu-1', metric: 'temperature.coolant.supply' },
          { pointId: 'sparkplug:g/e/pump-9:Speed', asset: 'pump-9', metric: 'speed.pump' },
        ],
      }),
    );
    conn.disconnect();
    // the reload is asynchronous (pub/sub): keep sending until a sample comes out registered
    let n = 1;
    const remapped = await waitFor('the re-mapped sample', async () => {
      await send(n++);
      const m = await rt.jsm.streams
        .getMessage('NORM', { last_by_subj: 'norm.v1.samples.ai1.h1.r1.plant-r1' })
        .catch(() => undefined);
      const s = m && busway.v1.SampleBatch.decode(m.data).samples[0];
      return s?.metric === 'speed.pump' ? s : undefined;
    });
    assert.equal(remapped.unregistered, false);
    assert.equal(remapped.path?.asset, 'pump-9');
    assert.equal(remapped.unit, '/min');
  });
});
