import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { busway, msFromTimeNs, type Long } from '@busway/proto';
import { parseSiteModel, publishSiteModel } from '@busway/registry';
import { runWorker, type WorkerRuntime } from '@busway/runtime';
import { normalizerModule } from '@busway/normalizer';
import { SlurmRestServer } from '@busway/simulator';
import { startNats, startRedis, waitFor, type TestServer } from '@busway/testkit';
import { ingestSchedulerModule } from './index.js';
import { deadLetters, eventsIn, phasesOf, published } from './test-fixtures.js';

const SITE_MODEL = parseSiteModel({
  site: 'ai1',
  assets: [
    { id: 'rack-a', class: 'rack', hall: 'h1', row: 'r1', rack: 'rack-a' },
    { id: 'rack-b', class: 'rack', hall: 'h1', row: 'r2', rack: 'rack-b' },
    ...['gpu01', 'gpu02', 'gpu03', 'gpu04'].map((id) => ({
      id,
      class: 'node',
      hall: 'h1',
      row: 'r1',
      rack: 'rack-a',
    })),
    { id: 'gpu07', class: 'node', hall: 'h1', row: 'r2', rack: 'rack-b' },
  ],
});
const P = busway.v1.JobPhase;
const T0 = Math.floor(Date.now() / 1000) * 1000;

describe('Slurm bridge against slurmrestd job endpoints, with a real nats-server, Redis and the normalizer', () => {
  let nats: TestServer;
  let redis: TestServer;
  let slurm: SlurmRestServer;
  let bridge: WorkerRuntime;
  let normalizer: WorkerRuntime;
  let env: Record<string, string>;
  const raw = () => eventsIn(bridge, 'RAW', 'raw.v1.events.hpc');

  before(async () => {
    [nats, redis] = await Promise.all([startNats(), startRedis()]);
    const conn = new Redis(redis.url);
    await publishSiteModel(conn, SITE_MODEL);
    conn.disconnect();
    slurm = await SlurmRestServer.start({ user: 'busway', token: 'jwt-1', cluster: 'hpc' });
    const source = (id: string, token: string) => ({
      id,
      url: slurm.url,
      user: 'busway',
      token,
      pollIntervalMs: 150,
      maxBackoffMs: 600,
    });
    env = {
      NATS_URL: nats.url,
      REDIS_URL: redis.url,
      BUSWAY_SITE: 'ai1',
      BUSWAY_LOG_LEVEL: 'silent',
      BUSWAY_SLURM: JSON.stringify([source('hpc', 'jwt-1'), source('stale', 'expired-jwt')]),
    };
    ({ rt: normalizer } = await runWorker(normalizerModule, { env, signals: false }));
    ({ rt: bridge } = await runWorker(ingestSchedulerModule, { env, signals: false }));
  });

  after(async () => {
    await bridge?.stop();
    await normalizer?.stop();
    await slurm?.close();
    await Promise.all([nats?.dispose(), redis?.dispose()]);
  });

  it("publishes a job's queue, start and failure at slurmctld's times, with its nodes expanded and its GPUs", async () => {
    const id = slurm.submit({ name: 'llm-pretrain', gpusPerNode: 8, jobId: 101 }, T0 - 30_000);
    await waitFor('QUEUED', async () => phasesOf(await raw()).includes('101:QUEUED'));
    slurm.start(id, ['gpu01', 'gpu02', 'gpu03', 'gpu04', 'gpu07'], T0 - 20_000);
    await waitFor('STARTED', async () => phasesOf(await raw()).includes('101:STARTED'));
    slurm.finish(id, 'NODE_FAIL', T0 - 5_000);
    const events = await waitFor('FAILED', async () => {
      const all = await raw();
      return phasesOf(all).includes('101:FAILED') ? all : undefined;
    });
    assert.deepEqual(phasesOf(events), ['101:QUEUED', '101:STARTED', '101:FAILED']);
    const started = events[1]?.event;
    assert.deepEqual(started?.job?.nodes, ['gpu01', 'gpu02', 'gpu03', 'gpu04', 'gpu07']);
    assert.equal(started?.job?.gpus, 40);
    assert.equal(started?.job?.scheduler, 'slurm');
    assert.equal(msFromTimeNs(started?.eventTimeNs as Long), T0 - 20_000);
    assert.equal(started?.clockSource, busway.v1.ClockSource.CLOCK_SOURCE_NTP);
    assert.equal(started?.timeResolutionMs, 1000, 'slurmrestd gives whole seconds');
    assert.equal(msFromTimeNs(events[2]?.event.eventTimeNs as Long), T0 - 5_000);
    assert.deepEqual(
      events.map((e) => e.msgId),
      ['hpc:101:0:queued', 'hpc:101:0:started', 'hpc:101:0:failed'],
    );
  });

  it("maps the job's nodes to their racks in the normalizer", async () => {
    const norm = await waitFor('normalized STARTED', async () =>
      (await eventsIn(bridge, 'NORM', 'norm.v1.events.job')).find(
        (e) => e.event.job?.jobId === '101' && e.event.job.phase === P.JOB_PHASE_STARTED,
      ),
    );
    assert.deepEqual(norm.event.job?.racks?.map((r) => r.rack).sort(), ['rack-a', 'rack-b']);
  });

  it('gives a job that started and completed between two polls both its STARTED and its ENDED', async () => {
    const id = slurm.submit({ name: 'short', gpusPerNode: 4, jobId: 102 }, T0);
    slurm.start(id, ['gpu07'], T0 + 1000);
    slurm.finish(id, 'COMPLETED', T0 + 3000);
    await waitFor('ENDED', async () => phasesOf(await raw()).includes('102:ENDED'));
    assert.deepEqual(
      phasesOf(await raw()).filter((p) => p.startsWith('102:')),
      ['102:STARTED', '102:ENDED'],
    );
  });

  it('publishes nothing again for unchanged jobs, however often it polls', async () => {
    const before = await published(bridge);
    const polls = slurm.requests.length;
    await waitFor('five more polls', () => slurm.requests.length >= polls + 5, 10_000, 50);
    assert.equal(await published(bridge), before);
    assert.ok(
      slurm.requests.slice(polls).every((r) => r.updateTime !== undefined),
      'polls carry update_time',
    );
  });

  it('infers the end of a running job that vanishes from slurmctld, at the ingest time', async () => {
    const id = slurm.submit({ name: 'lost', jobId: 103 }, T0);
    slurm.start(id, ['gpu02'], T0 + 1000);
    await waitFor('STARTED', async () => phasesOf(await raw()).includes('103:STARTED'));
    slurm.purge(id);
    const ended = await waitFor('inferred ENDED', async () =>
      (await raw()).find((e) => e.event.job?.jobId === '103' && e.event.job.phase === P.JOB_PHASE_ENDED),
    );
    assert.equal(ended.event.clockSource, busway.v1.ClockSource.CLOCK_SOURCE_INGEST);
    assert.equal(ended.event.timeResolutionMs, 0, "the bridge's own clock, to the millisecond");
  });

  it('dead-letters a job object it cannot read once, and a refused token once, and keeps going', async () => {
    slurm.rawJobs = [{ job_id: 555, job_state: ['RUNNING'], nodes: 'gpu[01-' }];
    const id = slurm.submit({ name: 'after-bad', jobId: 104 }, T0);
    await waitFor('the good job beside the bad one', async () =>
      phasesOf(await raw()).includes('104:QUEUED'),
    );
    const polls = slurm.requests.length;
    await waitFor('three more polls', () => slurm.requests.length >= polls + 3, 10_000, 50);
    const dead = await deadLetters(bridge);
    const bad = dead.filter((d) => d.origin.endsWith('/job/555'));
    assert.equal(bad.length, 1);
    assert.equal(bad[0]?.code, 'contract-violation');
    assert.match(bad[0]?.reason ?? '', /gpu\[01-/);
    const refused = dead.filter((d) => d.code === 'http-error');
    assert.equal(refused.length, 1, 'the stale token is dead-lettered once, not every poll');
    assert.match(refused[0]?.reason ?? '', /HTTP 401/);
    slurm.rawJobs = [];
    slurm.start(id, ['gpu03'], T0 + 2000);
    await waitFor('104 STARTED', async () => phasesOf(await raw()).includes('104:STARTED'));
  });

  it('resumes after a restart from its stored state: the end of a job that ended meanwhile, nothing twice', async () => {
    const id = slurm.submit({ name: 'across-restart', jobId: 105 }, T0);
    slurm.start(id, ['gpu04'], T0 + 1000);
    await waitFor('105 STARTED', async () => phasesOf(await raw()).includes('105:STARTED'));
    await bridge.stop();
    slurm.finish(id, 'CANCELLED', T0 + 4000);
    ({ rt: bridge } = await runWorker(ingestSchedulerModule, { env, signals: false }));
    await waitFor('105 CANCELLED', async () => phasesOf(await raw()).includes('105:CANCELLED'));
    const polls = slurm.requests.length;
    await waitFor('three more polls', () => slurm.requests.length >= polls + 3, 10_000, 50);
    assert.equal(await published(bridge), 1, 'the restarted bridge published only the cancellation');
    const phases = phasesOf(await raw());
    assert.equal(new Set(phases).size, phases.length, 'no event stored twice');
  });
});
