import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ensureStream, fabricStreams, type WorkerRuntime } from '@busway/runtime';
import type { Vtn } from '@busway/simulator';
import { startNats, waitFor, type TestServer } from '@busway/testkit';
import {
  batchesOf,
  capEvent,
  drProgram,
  openJs,
  outcome,
  startVen,
  startVtn,
  type Js,
} from './test-fixtures.js';

describe('OpenADR VEN while JetStream does not acknowledge', () => {
  let nats: TestServer;
  let vtn: Vtn;
  let ven: WorkerRuntime;
  let reader: Js & { nc: { close(): Promise<void> } };

  before(async () => {
    nats = await startNats();
    reader = await openJs(nats.url);
    vtn = await startVtn();
    ven = await startVen(nats, vtn, { BUSWAY_PUBLISH_TIMEOUT_MS: '500' });
  });

  after(async () => {
    await ven?.stop();
    await reader?.nc.close();
    await vtn?.close();
    await nats?.dispose();
  });

  it('answers callbacks 503 until the signals are stored, loses none, and stores each once', async () => {
    const program = drProgram(vtn);
    await waitFor('subscribed', async () => (await outcome(ven, 'subscribed')) === 1, 10_000, 20);
    const first = vtn.createEvent(capEvent(program.id, 500));
    await waitFor(
      'the webhook proven',
      async () => (await outcome(ven, 'callback-received')) >= 1,
      10_000,
      20,
    );
    await waitFor('stored', async () => (await batchesOf(reader, first.id)).length === 1, 10_000, 20);

    // without the RAW stream every publish is refused: JetStream is "down" for this worker
    await reader.jsm.streams.delete('RAW');
    const held = [vtn.createEvent(capEvent(program.id, 510)), vtn.createEvent(capEvent(program.id, 520))];
    const triesOf = (id: string) => vtn.notifier.deliveries.filter((d) => d.objectId === id);
    await waitFor(
      'the VTN retrying',
      async () => triesOf(held[0]?.id ?? '').filter((d) => d.status === 503).length >= 3,
      10_000,
      20,
    );
    assert.ok(
      held.every((e) => triesOf(e.id).every((d) => d.status !== 200)),
      'no callback answered 200 while nothing was stored',
    );
    assert.ok((await outcome(ven, 'callback-failed')) >= 3);

    const raw = fabricStreams().find((s) => s.name === 'RAW');
    assert.ok(raw);
    await ensureStream(reader.jsm, raw, ven.log);
    for (const e of held)
      await waitFor(`${e.id} stored`, async () => (await batchesOf(reader, e.id)).length === 1, 15_000, 50);
    await waitFor(
      'both callbacks finally answered 200',
      async () => held.every((e) => triesOf(e.id).some((d) => d.status === 200)),
      10_000,
      20,
    );
    assert.deepEqual(
      (await batchesOf(reader, held[1]?.id ?? '')).map((b) => b.events[0]?.grid?.value),
      [520],
      'stored once, not once per retry',
    );
  });
});
