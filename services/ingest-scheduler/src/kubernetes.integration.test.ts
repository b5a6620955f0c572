import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Kvm } from '@nats-io/kv';
import { busway, msFromTimeNs, type Long } from '@busway/proto';
import { runWorker, type WorkerRuntime } from '@busway/runtime';
import { bindPod, finishPod, KubeApiServer, newPod, runPod, type Pod } from '@busway/simulator';
import { startNats, waitFor, type TestServer } from '@busway/testkit';
import { ingestSchedulerModule } from './index.js';
import { deadLetters, eventsIn, phasesOf, published } from './test-fixtures.js';

const T0 = Math.floor(Date.now() / 1000) * 1000 - 60_000;
const NS = 'training';

describe('Kubernetes bridge against an API server with list, watch, bookmarks and 410 Gone, with a real nats-server', () => {
  let nats: TestServer;
  let kube: KubeApiServer;
  let bridge: WorkerRuntime;
  let env: Record<string, string>;
  const raw = () => eventsIn(bridge, 'RAW', 'raw.v1.events.k8s');
  const pod = (name: string, gpus: number, node?: string, runAtMs?: number): Pod => {
    const p = newPod({ name, namespace: NS, gpus, jobName: 'llm', createdMs: T0 });
    if (node) bindPod(p, node, T0 + 1000);
    if (node && runAtMs !== undefined) runPod(p, runAtMs);
    return kube.create(p);
  };
  const change = (name: string, fn: (p: Pod) => void) => kube.update(NS, name, fn);
  const storedCursor = async () =>
    (await (await new Kvm(bridge.js).open('scheduler-state')).get('k8s.cursor'))?.string();

  before(async () => {
    nats = await startNats();
    kube = await KubeApiServer.start({ token: 'sa-token', bookmarkIntervalMs: 200 });
    // before the bridge starts: found by the first list, two pages of two
    pod('worker-0', 8, 'gpu01', T0 + 5000);
    pod('worker-1', 8);
    pod('cpu-only', 0, 'gpu02', T0 + 5000);
    pod('worker-2', 4, 'gpu03', T0 + 6000);
    env = {
      NATS_URL: nats.url,
      BUSWAY_LOG_LEVEL: 'silent',
      BUSWAY_KUBERNETES: JSON.stringify([
        {
          id: 'k8s',
          url: kube.url,
          token: 'sa-token',
          namespace: NS,
          pageSize: 2,
          watchTimeoutS: 30,
          cursorSaveIntervalMs: 0,
          maxBackoffMs: 500,
        },
      ]),
    };
    ({ rt: bridge } = await runWorker(ingestSchedulerModule, { env, signals: false }));
  });

  after(async () => {
    await bridge?.stop();
    await kube?.close();
    await nats?.dispose();
  });

  it('lists the pods page by page first: running GPU pods as STARTED, pending as QUEUED, CPU pods not at all', async () => {
    const events = await waitFor('three events from the list', async () => {
      const all = await raw();
      return all.length >= 3 ? all : undefined;
    });
    assert.deepEqual(phasesOf(events).sort(), [
      'training/worker-0:STARTED',
      'training/worker-1:QUEUED',
      'training/worker-2:STARTED',
    ]);
    const w0 = events.find((e) => e.event.job?.jobId === 'training/worker-0')?.event;
    assert.deepEqual(w0?.job?.nodes, ['gpu01']);
    assert.equal(w0?.job?.gpus, 8);
    assert.equal(w0?.job?.scheduler, 'kubernetes');
    assert.equal(msFromTimeNs(w0?.eventTimeNs as Long), T0 + 5000);
    assert.ok(kube.requests.filter((r) => !r.watch).length >= 2, 'the list came in pages');
    assert.ok(
      kube.requests.some((r) => !r.watch && r.continue),
      'with a continue token',
    );
  });

  it('follows the watch: a pod scheduled and running, one finishing, one deleted while running', async () => {
    await waitFor('watching', () => kube.watching === 1);
    change('worker-1', (p) => bindPod(p, 'gpu04', T0 + 20_000));
    change('worker-1', (p) => runPod(p, T0 + 21_000));
    change('worker-0', (p) => finishPod(p, 'Succeeded', T0 + 30_000));
    kube.delete(NS, 'worker-2', T0 + 31_000);
    const events = await waitFor('three more', async () => {
      const all = await raw();
      return all.length >= 6 ? all : undefined;
    });
    assert.deepEqual(phasesOf(events.slice(3)), [
      'training/worker-1:STARTED',
      'training/worker-0:ENDED',
      'training/worker-2:CANCELLED',
    ]);
    assert.equal(msFromTimeNs(events[4]?.event.eventTimeNs as Long), T0 + 30_000);
    assert.equal(msFromTimeNs(events[5]?.event.eventTimeNs as Long), T0 + 31_000);
    assert.deepEqual(
      events.slice(3).map((e) => e.msgId.replace(/:[0-9a-f-]{36}:/, ':<uid>:')),
      ['k8s:<uid>:0:started', 'k8s:<uid>:0:ended', 'k8s:<uid>:0:cancelled'],
    );
  });

  it('keeps the resourceVersion of bookmarks, so a quiet cluster still moves the stored cursor', async () => {
    const atRest = kube.resourceVersion;
    // a change in a namespace the bridge does not watch: only a bookmark carries its resourceVersion to it
    kube.create(newPod({ name: 'elsewhere', namespace: 'other', gpus: 8 }));
    const rv = kube.resourceVersion;
    assert.notEqual(rv, atRest);
    await waitFor('cursor at the newest resourceVersion', async () => (await storedCursor()) === rv, 10_000);
  });

  it('lists again after a 410 Gone, publishing what changed in the gap once and nothing twice', async () => {
    const before = await published(bridge);
    kube.compact();
    kube.closeWatches(); // the bridge comes back with a resourceVersion the server no longer has
    change('worker-1', (p) => finishPod(p, 'Failed', T0 + 40_000));
    pod('worker-3', 2, 'gpu05', T0 + 41_000);
    const events = await waitFor('the gap caught up', async () => {
      const all = await raw();
      return phasesOf(all).includes('training/worker-3:STARTED') ? all : undefined;
    });
    assert.ok(phasesOf(events).includes('training/worker-1:FAILED'));
    assert.equal(await published(bridge), before + 2, 'only the two new steps were published');
    assert.ok(
      (await bridge.metrics.value('busway_messages_total', { stage: 'ingest', outcome: 'watch-gone' })) >= 1,
    );
    const phases = phasesOf(events);
    assert.equal(new Set(phases).size, phases.length, 'no event stored twice');
  });

  it('does the same when the server answers the watch with HTTP 410, and ends a pod deleted in the gap', async () => {
    await waitFor('watching again', () => kube.watching === 1);
    kube.goneAsHttpStatus = true;
    kube.compact();
    kube.closeWatches();
    kube.delete(NS, 'worker-3', T0 + 50_000); // gone before the re-list sees it: its end is inferred
    const ended = await waitFor('worker-3 ended', async () =>
      (await raw()).find(
        (e) =>
          e.event.job?.jobId === 'training/worker-3' &&
          e.event.job.phase !== busway.v1.JobPhase.JOB_PHASE_STARTED,
      ),
    );
    assert.equal(ended.event.job?.phase, busway.v1.JobPhase.JOB_PHASE_ENDED);
    assert.equal(
      ended.event.clockSource,
      busway.v1.ClockSource.CLOCK_SOURCE_INGEST,
      'an inferred end carries the ingest clock',
    );
    kube.goneAsHttpStatus = false;
  });

  it('dead-letters a pod it cannot read and keeps watching', async () => {
    await waitFor('watching again', () => kube.watching === 1);
    const broken = pod('broken', 1, 'gpu06', T0 + 60_000);
    change('broken', (p) => {
      (p.spec.containers[0] as { resources: unknown }).resources = { limits: { 'nvidia.com/gpu': 'lots' } };
    });
    pod('worker-4', 1, 'gpu06', T0 + 61_000);
    await waitFor('worker-4 after the broken pod', async () =>
      phasesOf(await raw()).includes('training/worker-4:STARTED'),
    );
    const dead = (await deadLetters(bridge)).filter((d) => d.reason.includes("'lots'"));
    assert.equal(dead.length, 1);
    assert.equal(dead[0]?.code, 'contract-violation');
    assert.ok(broken.metadata.uid);
  });

  it('resumes from the stored resourceVersion after a restart: no list, only what happened while it was down', async () => {
    await bridge.stop();
    const stoppedAt = kube.requests.length;
    change('worker-4', (p) => finishPod(p, 'Succeeded', T0 + 70_000));
    ({ rt: bridge } = await runWorker(ingestSchedulerModule, { env, signals: false }));
    await waitFor('worker-4 ENDED', async () => phasesOf(await raw()).includes('training/worker-4:ENDED'));
    const first = kube.requests[stoppedAt];
    assert.equal(first?.watch, true, 'the restarted bridge watched at once');
    assert.ok(first?.resourceVersion && first.resourceVersion !== '0');
    assert.equal(await published(bridge), 1, 'and published only the end that happened while it was down');
  });
});
