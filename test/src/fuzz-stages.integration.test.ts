import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { PIPELINE, Supervisor, provision } from '@busway/cli';
import { busway, EventTypes, Long, msFromTimeNs, timeNsFromMs, unsSubject } from '@busway/proto';
import type { SiteModel } from '@busway/registry';
import { loadConfig } from '@busway/runtime';
import { buildSiteModel, SimulatorConfigSchema } from '@busway/simulator';
import { startNats, startRedis, type TestServer } from '@busway/testkit';
import { FabricFuzzer, samplesOf, type DeadLettered, type Stored } from './faults/fuzz-harness.js';
import { decodedSamples, messageArb, type FuzzMessage } from './faults/fuzz-inputs.js';

const SITE = 'ai1';
const STAGES = ['normalizer', 'correlator', 'anomaly', 'fanout'];
/** Messages per stage: every one is published, processed and accounted for. */
const RUNS = 150;
/** Replay a failure with BUSWAY_FUZZ_SEED=<the seed in the assertion message>. */
const seed = Number(process.env.BUSWAY_FUZZ_SEED ?? Date.now() % 1_000_000);

const idKey = (s: busway.v1.ISample) => `${s.pointId}|${s.sequence?.toString()}`;
const fullKey = (s: busway.v1.ISample) => `${idKey(s)}|${s.eventTimeNs?.toString()}`;
const timeKey = (s: busway.v1.ISample) => `${s.pointId}|${s.eventTimeNs?.toString()}`;

/** Messages the stage cannot read as a sample batch that do not have exactly one dead letter. */
function unlettered(sent: Map<string, FuzzMessage>, dlq: Map<string, DeadLettered>, stage: string): string[] {
  return [...sent]
    .filter(([id, m]) => !decodedSamples(m) && dlq.get(id)?.codes.length !== 1)
    .map(
      ([id, m]) =>
        `${stage}: ${id} (${m.type ?? 'no headers'}) has ${dlq.get(id)?.codes.length ?? 0} dead letters`,
    );
}

describe('every pipeline stage, fed adversarial messages on its real input, on real NATS and Redis', () => {
  let nats: TestServer;
  let redis: TestServer;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let sup: Supervisor;
  let fuzz: FabricFuzzer;
  let model: SiteModel;
  const crashes: string[] = [];

  before(async () => {
    [nats, redis] = await Promise.all([startNats(), startRedis()]);
    const env = {
      ...process.env,
      NATS_URL: nats.url,
      REDIS_URL: redis.url,
      BUSWAY_SITE: SITE,
      BUSWAY_CONFIG: '',
      BUSWAY_LOG_LEVEL: 'warn',
    };
    model = buildSiteModel(loadConfig(SimulatorConfigSchema, { env, worker: 'simulator' }));
    await provision({
      natsUrl: nats.url,
      redisUrl: redis.url,
      siteModel: model,
      workers: PIPELINE,
      env,
      logLevel: 'warn',
    });
    nc = await connect({ servers: nats.url });
    jsm = await jetstreamManager(nc);
    sup = new Supervisor(env, mkdtempSync(join(tmpdir(), 'busway-fuzz-logs-')), (line) => crashes.push(line));
    for (const w of STAGES) await sup.start(w);
    await sup.waitReady();
    fuzz = new FabricFuzzer(nc, jsm, seed);
  });

  after(async () => {
    await sup?.stopAll(STAGES);
    await nc?.close();
    await Promise.all([nats?.dispose(), redis?.dispose()]);
  });

  describe('the normalizer, on RAW', () => {
    let sent: Map<string, FuzzMessage>;
    let norm: Stored[];
    let dlq: Map<string, DeadLettered>;

    before(async () => {
      const subject = fc.constantFrom('raw.v1.samples.sparkplug.fuzz', 'raw.v1.samples.modbus.fuzz');
      const msgs = fc.sample(messageArb(model, subject, { withPath: false }), { seed, numRuns: RUNS });
      sent = await fuzz.publishAll('raw', msgs);
      await fuzz.drained();
      norm = await fuzz.read('NORM', 'norm.v1.samples.');
      dlq = await fuzz.deadLetters('normalizer');
    });

    it('never crashes, and dead-letters every undecodable or mistyped message once, with a reason', () => {
      assert.deepEqual(crashes, [], 'no worker died');
      assert.deepEqual(unlettered(sent, dlq, 'normalizer'), [], `seed ${seed}`);
      const reasons = [...dlq.values()].flatMap((d) => d.codes);
      assert.ok(reasons.length > 0 && reasons.every((r) => /^[a-z-]+: .{5,}/.test(r)), reasons.join('\n'));
    });

    it('turns every sample of a message it decodes into a NORM sample or a dead letter of its own', () => {
      const problems: string[] = [];
      for (const [id, m] of sent) {
        const input = decodedSamples(m);
        if (!input) continue;
        const dead = dlq.get(id);
        const outs = samplesOf(norm.filter((o) => o.msgId.startsWith(`${id}:norm:`)));
        const got = [...outs, ...(dead?.samples ?? [])].map(idKey).sort();
        if (JSON.stringify(got) !== JSON.stringify(input.map(idKey).sort()))
          problems.push(
            `${id}: ${input.length} samples in, ${outs.length} in NORM + ${dead?.samples.length ?? 0} dead-lettered (${dead?.codes.join(' | ') ?? 'none'})`,
          );
      }
      assert.deepEqual(
        problems.slice(0, 5),
        [],
        `seed ${seed}: ${problems.length} RAW messages not accounted for`,
      );
    });
  });

  describe('the correlator, on NORM', () => {
    let sent: Map<string, FuzzMessage>;

    before(async () => {
      const racks = [
        ...new Set(model.assets.filter((a) => a.rack !== '_').map((a) => `${a.hall}.${a.row}.${a.rack}`)),
      ];
      const subject = fc.constantFrom(...racks.map((r) => `norm.v1.samples.${SITE}.${r}`));
      // NORM carries clamped times (at most 5 s ahead); sequences take the whole u64 range
      const opts = { withPath: true, maxAheadMs: 5000 };
      sent = await fuzz.publishAll(
        'norm',
        fc.sample(messageArb(model, subject, opts), { seed, numRuns: RUNS }),
      );
      await fuzz.drained();
    });

    it('never crashes, and dead-letters every undecodable or mistyped message once', async () => {
      assert.deepEqual(crashes, [], 'no worker died');
      assert.deepEqual(
        unlettered(sent, await fuzz.deadLetters('correlator'), 'correlator'),
        [],
        `seed ${seed}`,
      );
    });

    it('orders, or sends to ordered.v1.late, every sample whose time has passed', async () => {
      const horizon = Date.now() - 10_000; // released by now: idle sources let the watermark follow the clock
      const norm = samplesOf(await fuzz.read('NORM', 'norm.v1.samples.'));
      const ordered = new Set(samplesOf(await fuzz.read('ORDERED', 'ordered.v1.')).map(fullKey));
      const dead = new Set(
        [...(await fuzz.deadLetters('correlator')).values()].flatMap((d) => d.samples.map(fullKey)),
      );
      const missing = norm
        .filter((s) => msFromTimeNs(s.eventTimeNs) < horizon)
        .map(fullKey)
        .filter((k) => !ordered.has(k) && !dead.has(k));
      assert.deepEqual(
        missing.slice(0, 10),
        [],
        `seed ${seed}: ${missing.length} NORM samples neither ordered nor dead-lettered`,
      );
    });

    it('keeps two samples of a point at one time whose sequences differ only above 2^53', async () => {
      const point = model.points[0];
      const asset = model.assets.find((a) => a.id === point?.asset);
      assert.ok(point && asset);
      const t = timeNsFromMs(Date.now() - 20_000);
      const sample = (seq: string): busway.v1.ISample => ({
        pointId: point.pointId,
        path: {
          site: SITE,
          hall: asset.hall,
          row: asset.row,
          rack: asset.rack,
          assetClass: asset.class,
          asset: asset.id,
        },
        metric: point.metric,
        doubleValue: 1,
        eventTimeNs: t,
        sequence: Long.fromString(seq, true),
      });
      const pair = [sample('18446744073709551615'), sample('18446744073709551614')];
      const subject = `norm.v1.samples.${SITE}.${asset.hall}.${asset.row}.${asset.rack}`;
      await fuzz.publishAll('norm-seq', [
        {
          subject,
          type: EventTypes.SampleBatch,
          data: busway.v1.SampleBatch.encode({ samples: pair }).finish(),
        },
      ]);
      await fuzz.drained();
      const ordered = new Set(samplesOf(await fuzz.read('ORDERED', 'ordered.v1.')).map(fullKey));
      assert.deepEqual(
        pair.map((s) => ordered.has(fullKey(s))),
        [true, true],
      );
    });
  });

  describe('anomaly and fan-out, on ORDERED', () => {
    let sent: Map<string, FuzzMessage>;

    before(async () => {
      const racks = [
        ...new Set(model.assets.filter((a) => a.rack !== '_').map((a) => `${a.hall}.${a.row}.${a.rack}`)),
      ];
      const subject = fc.constantFrom(...racks.map((r) => `ordered.v1.samples.${SITE}.${r}`));
      sent = await fuzz.publishAll(
        'ordered',
        fc.sample(messageArb(model, subject, { withPath: true }), { seed, numRuns: RUNS }),
      );
      await fuzz.drained();
    });

    it('never crash, dead-letter every undecodable or mistyped message once, and nothing they can decode', async () => {
      const problems: string[] = [];
      for (const stage of ['anomaly', 'fanout']) {
        const dlq = await fuzz.deadLetters(stage);
        problems.push(...unlettered(sent, dlq, stage));
        for (const [id, m] of sent)
          if (decodedSamples(m) && dlq.has(id))
            problems.push(`${stage}: ${id} decodes but was dead-lettered: ${dlq.get(id)?.codes.join(' | ')}`);
      }
      assert.deepEqual(crashes, [], 'no worker died');
      assert.deepEqual(problems, [], `seed ${seed}`);
    });

    it('score and deliver only samples that were in ORDERED, each UNS subject growing in event time, the newest sample last', async () => {
      const ordered = samplesOf(await fuzz.read('ORDERED', 'ordered.v1.samples.'));
      const orderedKeys = new Set(ordered.map(timeKey));
      const scores = (await fuzz.read('ANOMALIES')).flatMap(
        (m) => busway.v1.AnomalyBatch.decode(m.data).scores,
      );
      const unsMsgs = await fuzz.read('UNS');
      const lastBySubject = new Map<string, bigint>();
      const backwards: string[] = [];
      for (const m of unsMsgs)
        for (const s of samplesOf([m])) {
          const t = BigInt(s.eventTimeNs?.toString() ?? '0');
          if (t <= (lastBySubject.get(m.subject) ?? -1n)) backwards.push(`${m.subject}@${t}`);
          lastBySubject.set(m.subject, t);
        }
      const newest = new Map<string, bigint>();
      for (const s of ordered.filter((x) => x.path && x.metric)) {
        const subject = unsSubject(s.path ?? {}, s.metric ?? '');
        const t = BigInt(s.eventTimeNs?.toString() ?? '0');
        if (t > (newest.get(subject) ?? -1n)) newest.set(subject, t);
      }
      const notLast = [...newest].filter(([subject, t]) => lastBySubject.get(subject) !== t);
      assert.ok(scores.length > 0, 'samples were scored');
      assert.deepEqual(
        scores.filter((s) => !orderedKeys.has(timeKey(s))),
        [],
        'every score is of a sample in ORDERED',
      );
      assert.deepEqual(
        samplesOf(unsMsgs).filter((s) => !orderedKeys.has(timeKey(s))),
        [],
        'every UNS sample was in ORDERED',
      );
      assert.deepEqual(backwards.slice(0, 5), [], 'each UNS subject only grows in event time');
      assert.deepEqual(
        notLast
          .slice(0, 5)
          .map(([subject, t]) => `${subject}@${t} (UNS ends at ${lastBySubject.get(subject)})`),
        [],
        `seed ${seed}: the newest sample of every subject is its last on UNS`,
      );
    });

    it('delivers a sample to its UNS subject even when the same point id and time went to another subject before', async () => {
      const t = timeNsFromMs(Date.now() - 30_000);
      const at = (rack: string): FuzzMessage => ({
        subject: `ordered.v1.samples.${SITE}.h1.r1.${rack}`,
        type: EventTypes.SampleBatch,
        data: busway.v1.SampleBatch.encode({
          samples: [
            {
              pointId: 'fuzz:moved-point',
              path: { site: SITE, hall: 'h1', row: 'r1', rack, assetClass: 'sensor', asset: 'moved' },
              metric: 'temperature.air.inlet',
              doubleValue: 21,
              eventTimeNs: t,
            },
          ],
        }).finish(),
      });
      await fuzz.publishAll('uns-moved', [at('rack-before'), at('rack-after')]);
      await fuzz.drained();
      const subjects = (await fuzz.read('UNS')).map((m) => m.subject).filter((s) => s.includes('.moved.'));
      assert.equal(new Set(subjects).size, 2, subjects.join(', '));
    });
  });
});
