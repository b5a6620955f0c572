import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { busway } from '@busway/proto';
import { publishSiteModel } from '@busway/registry';
import { loadConfig, runWorker, type WorkerRuntime } from '@busway/runtime';
import { normalizerModule } from '@busway/normalizer';
import { buildSiteModel, SimulatorConfigSchema, simulatorModule } from '@busway/simulator';
import { freePort, startMosquitto, startNats, startRedis, waitFor, type TestServer } from '@busway/testkit';
import { ingestSchedulerModule } from './index.js';
import { eventsIn } from './test-fixtures.js';

describe("the simulator's slurmrestd and Kubernetes API through the bridge: the plant's jobs as job events in racks", () => {
  let nats: TestServer;
  let redis: TestServer;
  let broker: TestServer;
  const workers: WorkerRuntime[] = [];

  before(async () => {
    [nats, redis, broker] = await Promise.all([startNats(), startRedis(), startMosquitto()]);
    const slurmPort = await freePort();
    const k8sPort = await freePort();
    const env = {
      NATS_URL: nats.url,
      REDIS_URL: redis.url,
      MQTT_URL: broker.url,
      BUSWAY_SITE: 'ai1',
      BUSWAY_LOG_LEVEL: 'silent',
      BUSWAY_ROWS: '1',
      BUSWAY_RACKS_PER_ROW: '2',
      BUSWAY_NODES_PER_RACK: '2',
      BUSWAY_GPUS_PER_NODE: '2',
      BUSWAY_JOB_MEAN_INTERVAL_MS: '500',
      BUSWAY_FAULT_MEAN_INTERVAL_MS: '0',
      BUSWAY_SLURM_PORT: String(slurmPort),
      BUSWAY_K8S_PORT: String(k8sPort),
      BUSWAY_KUBERNETES: JSON.stringify([
        { id: 'sim-k8s', url: `http://127.0.0.1:${k8sPort}`, token: 'busway-sim-token' },
      ]),
      BUSWAY_SLURM: JSON.stringify([
        {
          id: 'sim-slurm',
          url: `http://127.0.0.1:${slurmPort}`,
          user: 'busway',
          token: 'busway-sim-token',
          pollIntervalMs: 200,
        },
      ]),
    };
    const conn = new Redis(redis.url);
    await publishSiteModel(
      conn,
      buildSiteModel(loadConfig(SimulatorConfigSchema, { env, worker: 'simulator' })),
    );
    conn.disconnect();
    for (const mod of [normalizerModule, simulatorModule, ingestSchedulerModule])
      workers.push((await runWorker(mod as typeof normalizerModule, { env, signals: false })).rt);
  });

  after(async () => {
    for (const rt of workers.reverse()) await rt.stop();
    await Promise.all([nats?.dispose(), redis?.dispose(), broker?.dispose()]);
  });

  it('publishes each simulated job start once, from Slurm, with its racks, and no direct scheduler events', async () => {
    const rt = workers[0] as WorkerRuntime;
    const started = await waitFor(
      'a normalized STARTED from Slurm',
      async () =>
        (await eventsIn(rt, 'NORM', 'norm.v1.events.job')).find(
          (e) =>
            e.event.job?.scheduler === 'slurm' && e.event.job.phase === busway.v1.JobPhase.JOB_PHASE_STARTED,
        ),
      20_000,
      100,
    );
    const job = started.event.job;
    assert.ok(
      job?.nodes?.every((n) => /^node-r1-0[12]-[12]$/.test(n)),
      `nodes ${job?.nodes?.join(',')}`,
    );
    assert.equal(job?.gpus, (job?.nodes?.length ?? 0) * 2);
    assert.ok((job?.racks?.length ?? 0) >= 1);
    assert.ok(job?.racks?.every((r) => /^rack-r1-0[12]$/.test(r.rack ?? '')));
    const raw = await eventsIn(rt, 'RAW', 'raw.v1.events.sim-slurm');
    assert.equal(
      raw.filter(
        (e) =>
          e.event.job?.jobId === job?.jobId && e.event.job?.phase === busway.v1.JobPhase.JOB_PHASE_STARTED,
      ).length,
      1,
    );
    // the same jobs through the Kubernetes API: one pod per node, each a job of its own on its node
    const pods = await waitFor('pods started', async () => {
      const k8s = (await eventsIn(rt, 'RAW', 'raw.v1.events.sim-k8s')).filter(
        (e) => e.event.job?.phase === busway.v1.JobPhase.JOB_PHASE_STARTED,
      );
      return k8s.length > 0 ? k8s : undefined;
    });
    for (const e of pods) {
      const node = e.event.job?.nodes?.[0] ?? '';
      assert.match(node, /^node-r1-0[12]-[12]$/);
      assert.match(e.event.job?.jobId ?? '', new RegExp(`^training/job-\\d+-\\d+-${node}$`));
      assert.equal(e.event.job?.gpus, 2);
      assert.equal(e.event.job?.scheduler, 'kubernetes');
    }
    const direct = await rt.jsm.streams.info('RAW', { subjects_filter: 'raw.v1.events.scheduler' });
    assert.equal(
      direct.state.subjects?.['raw.v1.events.scheduler'] ?? 0,
      0,
      'the direct publish is off while slurmrestd is served',
    );
  });
});
