import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Kvm } from '@nats-io/kv';
import { ensureStream, fabricStreams, runWorker, type WorkerRuntime } from '@busway/runtime';
import { bindPod, KubeApiServer, newPod, runPod } from '@busway/simulator';
import { startNats, waitFor, type TestServer } from '@busway/testkit';
import { ingestSchedulerModule } from './index.js';
import { eventsIn, phasesOf } from './test-fixtures.js';

describe('Kubernetes bridge while JetStream does not store its events', () => {
  let nats: TestServer;
  let kube: KubeApiServer;
  let bridge: WorkerRuntime;
  let env: Record<string, string>;
  const running = (name: string) => {
    const p = newPod({ name, namespace: 'ml', gpus: 8 });
    bindPod(p, 'gpu01', Date.now());
    runPod(p, Date.now());
    return kube.create(p);
  };

  before(async () => {
    nats = await startNats();
    kube = await KubeApiServer.start({ token: 't', bookmarkIntervalMs: 100 });
    env = {
      NATS_URL: nats.url,
      BUSWAY_LOG_LEVEL: 'silent',
      BUSWAY_KUBERNETES: JSON.stringify([
        { id: 'k8s', url: kube.url, token: 't', cursorSaveIntervalMs: 0, maxBackoffMs: 300 },
      ]),
    };
    ({ rt: bridge } = await runWorker(ingestSchedulerModule, { env, signals: false }));
  });

  after(async () => {
    await bridge?.stop();
    await kube?.close();
    await nats?.dispose();
  });

  it('holds the event in hand, reads no further, keeps its cursor before it, and loses nothing across a restart', async () => {
    await waitFor('watching', () => kube.watching === 1);
    running('first');
    await waitFor(
      'first stored',
      async () => (await eventsIn(bridge, 'RAW', 'raw.v1.events.k8s')).length === 1,
    );
    // without the RAW stream every publish is refused at once: JetStream is "down" for this bridge
    await bridge.jsm.streams.delete('RAW');
    const a = running('during-a');
    const failed = () =>
      bridge.metrics.value('busway_messages_total', { stage: 'ingest', outcome: 'publish-failed' });
    await waitFor('refused publishes', async () => (await failed()) >= 2, 10_000, 20);
    running('during-b');
    await new Promise((r) => setTimeout(r, 300)); // bookmarks keep coming meanwhile; the cursor must not take them
    const cursor = (await (await new Kvm(bridge.js).open('scheduler-state')).get('k8s.cursor'))?.string();
    assert.ok(
      Number(cursor) < Number(a.metadata.resourceVersion),
      `cursor ${cursor} stays before the unstored event`,
    );
    await bridge.stop(); // stopped with the event unstored: it is not acknowledged anywhere

    const spec = fabricStreams().find((s) => s.name === 'RAW');
    assert.ok(spec);
    ({ rt: bridge } = await runWorker(ingestSchedulerModule, { env, signals: false }));
    await ensureStream(bridge.jsm, spec, bridge.log);
    const events = await waitFor('both stored after the restart', async () => {
      const all = await eventsIn(bridge, 'RAW', 'raw.v1.events.k8s');
      return all.length >= 2 ? all : undefined;
    });
    assert.deepEqual(phasesOf(events), ['ml/during-a:STARTED', 'ml/during-b:STARTED']);
  });
});
