import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Redis } from 'ioredis';
import mqtt from 'mqtt';
import { PIPELINE, WORKERS, Supervisor, provision, summarize, sumOf } from '@busway/cli';
import { busway, org, unsSubject } from '@busway/proto';
import { Hdr, loadConfig } from '@busway/runtime';
import { buildSiteModel, SimulatorConfigSchema } from '@busway/simulator';
import { startMosquitto, startNats, startRedis, waitFor, type TestServer } from '@busway/testkit';
import { STAGES, waitForEveryStage } from './pipeline-stages.js';
import { readStream, sampleKey, samplesOf } from './streams.js';

const SITE = 'ai1';

describe('the whole pipeline, each worker its own process, on real NATS, Redis and Mosquitto', () => {
  let nats: TestServer;
  let redis: TestServer;
  let broker: TestServer;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let sup: Supervisor;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    [nats, redis, broker] = await Promise.all([startNats(), startRedis(), startMosquitto()]);
    env = {
      ...process.env,
      NATS_URL: nats.url,
      REDIS_URL: redis.url,
      MQTT_URL: broker.url,
      BUSWAY_SITE: SITE,
      BUSWAY_LOG_LEVEL: 'info',
      BUSWAY_CONFIG: '',
      BUSWAY_API_PORT: '0', // the REST API on a free port: test files run side by side
    };
    const siteModel = buildSiteModel(loadConfig(SimulatorConfigSchema, { env, worker: 'simulator' }));
    await provision({ natsUrl: nats.url, redisUrl: redis.url, siteModel, workers: WORKERS, env });
    nc = await connect({ servers: nats.url });
    jsm = await jetstreamManager(nc);
    sup = new Supervisor(env, mkdtempSync(join(tmpdir(), 'busway-e2e-logs-')));
    for (const w of PIPELINE) await sup.start(w.name);
    await sup.waitReady();
  });

  after(async () => {
    await sup?.stopAll(['simulator', ...PIPELINE.map((w) => w.name)]);
    await nc?.close();
    await Promise.all([nats?.dispose(), redis?.dispose(), broker?.dispose()]);
  });

  it('carries every simulated sample through all five stages, loses none when each worker is stopped mid-stream, and dead-letters a malformed payload', async () => {
    // an independent MQTT observer records every DDATA the simulator publishes: the ingest's ground truth
    const observer = await mqtt.connectAsync(broker.url);
    const published = new Set<string>();
    observer.on('message', (topic, payload) => {
      const [, group, , edge, device] = topic.split('/');
      let p: org.eclipse.tahu.protobuf.Payload;
      try {
        p = org.eclipse.tahu.protobuf.Payload.decode(payload);
      } catch {
        return; // the malformed payload this test sends on purpose
      }
      published.add(
        `sparkplug:${group}/${edge}/${device}:DDATA:${p.timestamp?.toString()}:${p.seq?.toString()}`,
      );
    });
    await observer.subscribeAsync('spBv1.0/+/DDATA/#', { qos: 1 });

    await sup.start('simulator');
    await sup.waitReady();
    await waitFor(
      'samples at the fan-out',
      async () =>
        sumOf(await sup.scrape(), 'busway_samples_total', { stage: 'fanout', direction: 'out' }) > 0,
      30_000,
    );

    // a malformed Sparkplug payload on a real topic: dead-lettered with a reason by the decode stage, which keeps going
    const client = await mqtt.connectAsync(broker.url);
    await client.publishAsync(
      `spBv1.0/${SITE}-h1/DDATA/row-r1-gw/pdu-bogus`,
      Buffer.from([0xff, 0xff, 0xff, 0x01]),
      { qos: 1 },
    );
    await client.endAsync();
    const dead = await waitFor('the dead letter', async () => {
      const msgs = await readStream(nc, jsm, 'DLQ', 'dlq.v1.sparkplug-decode');
      return msgs.length > 0 ? msgs : undefined;
    });
    assert.equal(dead.length, 1);

    // every stage has processed samples (counters live in each process: read them before any restart)
    await waitForEveryStage(sup);
    const counts = summarize(await sup.scrape(), 0);

    // SIGTERM each worker mid-stream, then start it again: it resumes from its durable consumer (or MQTT session)
    for (const w of PIPELINE) {
      await sup.stop(w.name);
      await new Promise((r) => setTimeout(r, 1500));
      await sup.start(w.name);
      await sup.waitReady();
      await new Promise((r) => setTimeout(r, 1000));
    }

    await sup.stop('simulator');
    await new Promise((r) => setTimeout(r, 500)); // the observer's last messages
    await observer.endAsync();

    // drained: every durable consumer has nothing pending and nothing unacknowledged
    await waitFor(
      'all consumers drained',
      async () => {
        for (const [stream, durable] of [
          ['AUDIT', 'sparkplug-decode'],
          ['RAW', 'normalizer'],
          ['NORM', 'correlator'],
          ['ORDERED', 'anomaly'],
          ['ORDERED', 'fanout-samples'],
          ['ANOMALIES', 'fanout-anomalies'],
          ['INCIDENTS', 'fanout-incidents'],
          ['ALARMS', 'fanout-alarms'],
        ] as const) {
          const info = await jsm.consumers.info(stream, durable);
          if (info.num_pending > 0 || info.num_ack_pending > 0) return false;
        }
        return true;
      },
      45_000,
      500,
    );

    for (const stage of STAGES) {
      assert.ok(
        (counts.stages[stage]?.samplesOut ?? 0) > 0,
        `${stage} processed samples (${JSON.stringify(counts.stages[stage])})`,
      );
    }

    const rawMessages = await readStream(nc, jsm, 'RAW', 'raw.v1.samples.');
    const rawDdata = new Set(rawMessages.map((m) => m.msgId).filter((id) => id.includes(':DDATA:')));
    assert.ok(published.size > 50, `the observer saw the simulator publish (${published.size} DDATA)`);
    assert.deepEqual(rawDdata, published, 'every published DDATA reached RAW once, across an ingest restart');
    const raw = samplesOf(rawMessages);
    const norm = samplesOf(await readStream(nc, jsm, 'NORM', 'norm.v1.samples.'));
    // the correlator acks its input once checkpointed, and releases the last samples when its watermark passes
    // them (the input idle for idleTimeoutMs): give it that long, then compare
    let ordered: busway.v1.ISample[] = [];
    await waitFor(
      'the correlator released every sample',
      async () => {
        ordered = samplesOf(await readStream(nc, jsm, 'ORDERED', 'ordered.v1.'));
        return ordered.length >= norm.length;
      },
      20_000,
      1000,
    ).catch(() => undefined); // the assertion below says by how much
    const rawKeys = new Set(raw.map(sampleKey));
    const normKeys = norm.map(sampleKey);
    assert.ok(raw.length > 100, `the simulator produced a real stream (${raw.length} raw samples)`);
    assert.equal(rawKeys.size, raw.length, `no duplicate sample entered RAW: ${duplicatesOf(rawMessages)}`);
    assert.equal(new Set(normKeys).size, normKeys.length, 'no duplicate sample in NORM despite the restart');
    assert.deepEqual(new Set(normKeys), rawKeys, 'every raw sample was normalized exactly once');
    assert.equal(ordered.length, norm.length, 'every normalized sample was ordered exactly once');
    const scores = (await readStream(nc, jsm, 'ANOMALIES')).flatMap(
      (m) => busway.v1.AnomalyBatch.decode(m.data).scores,
    );
    const scoreKeys = scores.map((s) => `${s.pointId}|${s.eventTimeNs?.toString()}`);
    assert.ok(scores.length > 0, 'samples were scored');
    assert.equal(new Set(scoreKeys).size, scoreKeys.length, 'no sample scored twice despite the restart');
    assert.ok(
      norm.every((s) => s.unregistered !== true),
      'every simulated point is in the registry',
    );

    const dlq = await readStream(nc, jsm, 'DLQ');
    assert.deepEqual(
      dlq.map((m) => m.subject),
      ['dlq.v1.sparkplug-decode'],
      'the malformed payload is the only dead letter',
    );

    // the last value of every point is its newest ordered sample, despite the fan-out restart (once fan-out has
    // taken in what the correlator released last)
    await waitFor(
      'fan-out took in the last ordered samples',
      async () => {
        const info = await jsm.consumers.info('ORDERED', 'fanout-samples');
        return info.num_pending === 0 && info.num_ack_pending === 0;
      },
      20_000,
      500,
    );
    const newest = new Map<string, bigint>();
    for (const s of ordered) {
      const subject = unsSubject(s.path ?? {}, s.metric ?? '');
      const t = BigInt(s.eventTimeNs?.toString() ?? '0');
      if ((newest.get(subject) ?? -1n) < t) newest.set(subject, t);
    }
    const lv = new Redis(redis.url);
    try {
      const keys = await lv.keys('busway:lv:v1:uns.v1.ai1.*.cdu.*');
      assert.ok(keys.length > 0, 'CDU last values are in Redis');
      for (const [subject, t] of newest) {
        const stored = await lv.hget(`busway:lv:v1:${subject}`, 'timeNs');
        assert.equal(stored, t.toString(), `last value of ${subject}`);
      }
    } finally {
      lv.disconnect();
    }
  });

  it('gives the dead letter a readable reason', async () => {
    const msgs = await readStream(nc, jsm, 'DLQ', 'dlq.v1.sparkplug-decode');
    assert.ok(msgs.length >= 1);
    const info = await jsm.streams.getMessage('DLQ', { last_by_subj: 'dlq.v1.sparkplug-decode' });
    assert.match(info?.header.get(Hdr.DlqCode) ?? '', /decode-error|contract-violation/);
    assert.ok((info?.header.get(Hdr.DlqReason) ?? '').length > 5);
  });
});

/** Each sample identity stored more than once, with the ids of the messages that carry it: what a failure needs. */
function duplicatesOf(messages: { data: Uint8Array; msgId: string }[]): string {
  const carriers = new Map<string, string[]>();
  for (const m of messages)
    for (const s of busway.v1.SampleBatch.decode(m.data).samples) {
      const key = sampleKey(s);
      carriers.set(key, [...(carriers.get(key) ?? []), m.msgId]);
    }
  return JSON.stringify([...carriers].filter(([, ids]) => ids.length > 1).slice(0, 10));
}
