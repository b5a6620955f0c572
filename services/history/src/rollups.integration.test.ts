import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, nanos, type NatsConnection } from '@nats-io/transport-node';
import { busway, EventTypes, msFromTimeNs, timeNsFromMs } from '@busway/proto';
import { fabricHeaders, Hdr, runWorker, type WorkerRuntime } from '@busway/runtime';
import { startNats, waitFor, type TestServer } from '@busway/testkit';
import { historyModule } from './index.js';

const MIN = 60_000;
const HOUR = 3_600_000;
const T = 1_800_000_000_000; // 2027-01-15T08:00:00Z, an hour boundary, far ahead of the wall clock
const pathOf = (asset: string) => ({
  site: 'ai1',
  hall: 'h1',
  row: 'r1',
  rack: 'plant-r1',
  assetClass: 'cdu',
  asset,
});
const rollupSubject = (period: string, asset: string) =>
  `rollup.v1.${period}.ai1.h1.r1.plant-r1.cdu.${asset}.flow.coolant`;
const LIMITS = '{"UNS":{"maxAgeMs":"2d","maxBytes":"3GiB"},"ROLLUP_1H":{"maxAgeMs":"90d"}}';

describe('the rollup worker against a real nats-server', () => {
  let nats: TestServer;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let worker: { rt: WorkerRuntime } | undefined;
  let n = 0;

  const start = async () => {
    worker = await runWorker(historyModule, {
      env: {
        NATS_URL: nats.url,
        BUSWAY_LOG_LEVEL: 'silent',
        BUSWAY_ALLOWED_LATENESS_MS: '1000',
        BUSWAY_IDLE_CLOSE_MS: '1000',
        BUSWAY_STREAM_LIMITS: LIMITS,
      },
      signals: false,
    });
  };
  const stop = async () => {
    await worker?.rt.stop();
    worker = undefined;
  };
  /** One ORDERED message; `samples` as [asset, value, event time ms]. */
  const publish = async (samples: [string, number, number][], data?: Uint8Array, type?: string) => {
    const id = `t-${++n}`;
    const payload =
      data ??
      busway.v1.SampleBatch.encode({
        samples: samples.map(([asset, v, t]) => ({
          pointId: `test:${asset}:flow`,
          path: pathOf(asset),
          metric: 'flow.coolant',
          doubleValue: v,
          unit: 'L/min',
          eventTimeNs: timeNsFromMs(t),
        })),
      }).finish();
    await jetstream(nc).publish('ordered.v1.samples.ai1.h1.r1.plant-r1', payload, {
      headers: fabricHeaders({ type: type ?? EventTypes.SampleBatch, source: '/test', id }),
      msgID: id,
    });
  };
  const processed = async () =>
    (await worker?.rt.metrics.value('busway_messages_total', { stage: 'history', outcome: 'ack' })) ?? 0;
  /** Every rollup stored on a subject, oldest first. */
  const rollups = async (subject: string): Promise<busway.v1.Rollup[]> => {
    const out: busway.v1.Rollup[] = [];
    const stream = subject.startsWith('rollup.v1.1m.') ? 'ROLLUP_1M' : 'ROLLUP_1H';
    for (let seq = 1; ;) {
      const m = await jsm.direct.getMessage(stream, { seq, next_by_subj: subject });
      if (!m) return out;
      out.push(busway.v1.Rollup.decode(m.data));
      seq = m.seq + 1;
    }
  };
  const waitRollups = (subject: string, count: number) =>
    waitFor(`${count} rollups on ${subject}`, async () => {
      const r = await rollups(subject);
      return r.length >= count ? r : undefined;
    });

  before(async () => {
    nats = await startNats();
    nc = await connect({ servers: nats.url });
    jsm = await jetstreamManager(nc);
    await start();
  });
  after(async () => {
    await stop();
    await nc.close();
    await nats.dispose();
  });

  it('provisions the history streams with the limits from configuration', async () => {
    const uns = await jsm.streams.info('UNS');
    assert.equal(uns.config.max_age, nanos(2 * 24 * HOUR));
    assert.equal(uns.config.max_bytes, 3 * 1024 ** 3);
    assert.equal(uns.config.allow_direct, true);
    assert.equal((await jsm.streams.info('ROLLUP_1H')).config.max_age, nanos(90 * 24 * HOUR));
    assert.equal((await jsm.streams.info('ROLLUP_1M')).config.max_age, nanos(30 * 24 * HOUR), 'default kept');
  });

  it('closes a quiet window by the wall clock once input has stopped for idleCloseMs', async () => {
    const t = Math.floor((Date.now() - 10 * MIN) / MIN) * MIN; // a minute well in the past
    await publish([
      ['idle', 4, t + 1000],
      ['idle', 6, t + 2000],
    ]);
    const [r] = await waitRollups(rollupSubject('1m', 'idle'), 1);
    assert.equal(r?.count?.toString(), '2');
    assert.equal(r?.sum, 10);
  });

  it('rolls samples up per point and minute, closing a window only when event time passes its end plus the lateness', async () => {
    const base = await processed();
    await publish([
      ['a', 10, T + 5_000],
      ['b', 100, T + 6_000],
    ]);
    await publish([
      ['a', 30, T + 30_000],
      ['a', 20, T + 59_999],
    ]);
    await publish([['a', 7, T + MIN + 500]]); // next minute, but within the allowed lateness of the first
    await waitFor('input processed', async () => (await processed()) >= base + 3);
    assert.deepEqual(
      await rollups(rollupSubject('1m', 'a')),
      [],
      'nothing closes before the lateness has passed',
    );

    await publish([['b', 50, T + MIN + 1_001]]); // the watermark passes T + 1 min: the first minute closes
    const [a] = await waitRollups(rollupSubject('1m', 'a'), 1);
    assert.equal(msFromTimeNs(a?.startNs), T);
    assert.equal(a?.periodS, 60);
    assert.deepEqual([a?.min, a?.max, a?.sum, a?.count?.toString()], [10, 30, 60, '3']);
    assert.equal(a?.last, 20);
    assert.equal(a?.unit, 'L/min');
    const [b] = await waitRollups(rollupSubject('1m', 'b'), 1);
    assert.deepEqual([b?.min, b?.max, b?.count?.toString()], [100, 100, '1']);
    const stored = await jsm.streams.getMessage('ROLLUP_1M', { last_by_subj: rollupSubject('1m', 'a') });
    assert.equal(stored?.header.get(Hdr.Type), EventTypes.Rollup);
    assert.equal(stored?.header.get(Hdr.MsgId), `${rollupSubject('1m', 'a')}@${T}`);
  });

  it('finishes a window after a restart from the checkpoint, with samples from both sides and no duplicate', async () => {
    const m = T + 10 * MIN;
    const base = await processed();
    await publish([
      ['c', 1, m + 5_000],
      ['c', 5, m + 20_000],
    ]);
    await waitFor('input processed', async () => (await processed()) >= base + 1);
    await stop(); // the window of minute m is open: nothing of it is published yet
    await start();
    await publish([['c', 3, m + 40_000]]);
    await publish([['d', 0, m + MIN + 2_000]]);
    const [c] = await waitRollups(rollupSubject('1m', 'c'), 1);
    assert.deepEqual([c?.min, c?.max, c?.sum, c?.count?.toString()], [1, 5, 9, '3']);
    await publish([['d', 0, m + 3 * MIN]]);
    await waitRollups(rollupSubject('1m', 'd'), 1);
    assert.equal((await rollups(rollupSubject('1m', 'c'))).length, 1, 'the window was published once');
  });

  it('builds the hour from its minutes, including minutes closed before a restart', async () => {
    const h = T + 2 * HOUR;
    await publish([
      ['e', 2, h + 1_000],
      ['e', 8, h + 2_000],
    ]);
    await publish([['e', 4, h + MIN + 1_000]]);
    await publish([['e', 6, h + 2 * MIN + 3_000]]); // closes minutes 0 and 1 of the hour
    await waitRollups(rollupSubject('1m', 'e'), 2);
    await stop(); // minutes 0 and 1 are only in ROLLUP_1M now: the restart reads them back
    await start();
    await publish([['e', 10, h + 30 * MIN]]);
    await publish([['f', 0, h + HOUR + 2_000]]); // closes the hour
    const [hour] = await waitRollups(rollupSubject('1h', 'e'), 1);
    assert.equal(msFromTimeNs(hour?.startNs), h);
    assert.equal(hour?.periodS, 3600);
    assert.deepEqual([hour?.min, hour?.max, hour?.sum, hour?.count?.toString()], [2, 10, 30, '5']);
    assert.equal(hour?.last, 10);
    assert.equal((await rollups(rollupSubject('1m', 'e'))).length, 4, 'minutes 0, 1, 2 and 30, once each');
  });

  it('dead-letters an ORDERED message that does not decode and keeps rolling up', async () => {
    await publish([], new Uint8Array([0x0a, 0xff, 0xff, 0xff]));
    const dead = await waitFor('dead letter', () =>
      jsm.streams.getMessage('DLQ', { last_by_subj: 'dlq.v1.history' }).catch(() => undefined),
    );
    assert.equal(dead.header.get(Hdr.DlqCode), 'decode-error');
    const h = T + 5 * HOUR;
    await publish([['g', 1, h]]);
    await publish([['g', 1, h + 2 * MIN]]);
    await waitRollups(rollupSubject('1m', 'g'), 1);
  });
});
