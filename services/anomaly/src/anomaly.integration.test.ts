import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { Redis } from 'ioredis';
import { busway, EventTypes, msFromTimeNs, Subjects } from '@busway/proto';
import { publishSiteModel } from '@busway/registry';
import { fabricHeaders, Hdr, runWorker, type WorkerRuntime } from '@busway/runtime';
import { startNats, startRedis, waitFor, type TestServer } from '@busway/testkit';
import { simDataset } from './eval/sim-stream.js';
import type { Dataset, StreamItem } from './eval/types.js';
import { anomalyModule } from './index.js';

const MIN = 60_000;
const CHECKPOINT_KEY = 'busway:anomaly:v1:state:anomaly';

/** The simulated plant's ordered stream as the correlator would publish it: one message per rack and second. */
function messagesOf(items: StreamItem[]) {
  const out: { subject: string; type: string; data: Uint8Array; id: string }[] = [];
  let batch = new Map<string, busway.v1.ISample[]>();
  let second = -1;
  const flush = () => {
    for (const [subject, samples] of batch)
      out.push({
        subject,
        type: EventTypes.SampleBatch,
        data: busway.v1.SampleBatch.encode({ samples }).finish(),
        id: `${subject}@${second}#${out.length}`,
      });
    batch = new Map();
  };
  for (const item of items) {
    if ('event' in item) {
      flush();
      out.push({
        subject: Subjects.orderedEvents('job'),
        type: EventTypes.EventBatch,
        data: busway.v1.EventBatch.encode({ events: [item.event] }).finish(),
        id: `event:${item.event.id}`,
      });
      continue;
    }
    const s = Math.floor(msFromTimeNs(item.sample.eventTimeNs) / 1000);
    if (s !== second) {
      flush();
      second = s;
    }
    const p = item.sample.path ?? {};
    const subject = Subjects.orderedSamples(p.site ?? '_', p.hall ?? '_', p.row ?? '_', p.rack ?? '_');
    batch.set(subject, [...(batch.get(subject) ?? []), item.sample]);
  }
  flush();
  return out;
}

async function publishAll(js: JetStreamClient, msgs: ReturnType<typeof messagesOf>): Promise<void> {
  for (let i = 0; i < msgs.length; i += 200)
    await Promise.all(
      msgs.slice(i, i + 200).map((m) =>
        js.publish(m.subject, m.data, {
          headers: fabricHeaders({ type: m.type, source: '/test/correlator', id: m.id }),
          msgID: m.id,
        }),
      ),
    );
}

/** Every message of a stream, decoded by its ce-type. */
async function readAll(js: JetStreamClient, jsm: JetStreamManager, stream: string) {
  const info = await jsm.streams.info(stream);
  const out: { subject: string; type: string; data: Uint8Array }[] = [];
  if (info.state.messages === 0) return out;
  const consumer = await js.consumers.get(stream);
  for await (const m of await consumer.consume()) {
    out.push({ subject: m.subject, type: m.headers?.get(Hdr.Type) ?? '', data: m.data });
    if (m.seq >= info.state.last_seq || m.info.pending === 0) break;
  }
  return out;
}

describe('the anomaly worker against real nats-server and Redis, on the simulated plant with injected faults', () => {
  let nats: TestServer;
  let redisServer: TestServer;
  let redis: Redis;
  let rt: WorkerRuntime;
  let ds: Dataset;
  const env = () => ({
    NATS_URL: nats.url,
    REDIS_URL: redisServer.url,
    BUSWAY_SITE: 'ai1',
    BUSWAY_LOG_LEVEL: 'silent',
    BUSWAY_CHECKPOINT_INTERVAL_MS: '500',
  });
  const start = async () => ({ rt } = await runWorker(anomalyModule, { env: env(), signals: false }));
  const drained = async () => {
    for (const durable of ['anomaly', 'anomaly-jobs']) {
      const info = await rt.jsm.consumers.info('ORDERED', durable);
      if (info.num_pending > 0 || info.num_ack_pending > 0) return false;
    }
    return true;
  };

  before(async () => {
    [nats, redisServer] = await Promise.all([startNats(), startRedis()]);
    redis = new Redis(redisServer.url);
    ds = simDataset({ seed: 3, durationMs: 12 * MIN, faultMeanIntervalMs: 40_000 });
    await publishSiteModel(redis, ds.registry!.model);
    await start();
  });
  after(async () => {
    await rt?.stop();
    redis.disconnect();
    await Promise.all([nats?.dispose(), redisServer?.dispose()]);
  });

  it('scores every sample once across a restart, which resumes the detectors from Redis without learning again', async () => {
    const half = ds.startMs + 6 * MIN;
    const t = (i: StreamItem) => msFromTimeNs('event' in i ? i.event.eventTimeNs : i.sample.eventTimeNs);
    const first = messagesOf(ds.items.filter((i) => t(i) < half));
    const second = messagesOf(ds.items.filter((i) => t(i) >= half));
    await publishAll(rt.js, first);
    await waitFor('the first half scored', drained, 60_000, 200);

    await rt.stop(); // graceful: the last checkpoint is written on stop
    const checkpointed = await redis.hlen(CHECKPOINT_KEY);
    const seriesBefore = new Set(
      ds.items.flatMap((i) => ('sample' in i && t(i) < half ? [i.sample.pointId ?? ''] : [])),
    );
    assert.ok(
      checkpointed >= seriesBefore.size,
      `${checkpointed} series checkpointed of ${seriesBefore.size}`,
    );

    await start();
    await publishAll(rt.js, second);
    await waitFor('the second half scored', drained, 60_000, 200);

    const scores = (await readAll(rt.js, rt.jsm, 'ANOMALIES')).flatMap(
      (m) => busway.v1.AnomalyBatch.decode(m.data).scores,
    );
    const samples = ds.items.filter((i) => 'sample' in i).length;
    assert.equal(scores.length, samples, 'one score per sample, none lost or doubled by the restart');
    const afterRestart = new Map<string, string>();
    for (const s of scores)
      if (msFromTimeNs(s.eventTimeNs) >= half && !afterRestart.has(s.pointId ?? ''))
        afterRestart.set(s.pointId ?? '', s.label ?? '');
    const relearning = [...afterRestart].filter(([, label]) => label === 'learning');
    assert.deepEqual(relearning, [], 'no series starts learning again after the restart');
  });

  it('raises one alarm per affected point for the injected faults it finds, clears them, and finds most', async () => {
    const events = (await readAll(rt.js, rt.jsm, 'ALARMS')).flatMap((m) => {
      assert.equal(m.type, EventTypes.EventBatch);
      assert.match(m.subject, /^alarm\.v1\.ai1\.h1\.r[12]\./);
      return busway.v1.EventBatch.decode(m.data).events;
    });
    assert.ok(events.length > 0, 'alarms were raised');
    const byId = new Map<string, busway.v1.IEvent[]>();
    for (const e of events) {
      assert.equal(e.kind, busway.v1.EventKind.EVENT_KIND_ALARM);
      byId.set(e.alarm?.alarmId ?? '', [...(byId.get(e.alarm?.alarmId ?? '') ?? []), e]);
    }
    for (const [id, list] of byId) {
      assert.deepEqual(
        list.map((e) => e.alarm?.active),
        list.length === 1 ? [true] : [true, false],
        `${id}: a raise, then at most one clear`,
      );
      assert.ok((list[0]?.alarm?.anomaly?.score ?? 0) >= 0.5, 'raised by a score at the threshold');
    }
    const raises = events.filter((e) => e.alarm?.active);
    const scoredFrom = ds.startMs + ds.probationMs;
    const faults = ds.windows.filter((w) => w.startMs >= scoredFrom);
    assert.ok(faults.length >= 5, `${faults.length} faults injected after the warm-up`);
    let found = 0;
    for (const w of faults) {
      const inWindow = raises.filter((e) => {
        const at = msFromTimeNs(e.alarm?.raisedTimeNs);
        return w.pointIds.includes(e.alarm?.anomaly?.pointId ?? '') && at >= w.startMs && at <= w.endMs;
      });
      if (inWindow.length > 0) found++;
      const perPoint = new Map<string, number>();
      for (const e of inWindow)
        perPoint.set(
          e.alarm?.anomaly?.pointId ?? '',
          (perPoint.get(e.alarm?.anomaly?.pointId ?? '') ?? 0) + 1,
        );
      for (const [p, n] of perPoint) assert.equal(n, 1, `${w.type} raised ${n} alarms on ${p}`);
    }
    assert.ok(found / faults.length >= 0.6, `found ${found} of ${faults.length} faults`);
  });
});
