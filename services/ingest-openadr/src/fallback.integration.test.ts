import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { WorkerRuntime } from '@busway/runtime';
import type { OadrObject, Vtn } from '@busway/simulator';
import { freePort, startNats, waitFor, type TestServer } from '@busway/testkit';
import {
  assertVtnConformed,
  batchesOf,
  capEvent,
  drProgram,
  openJs,
  outcome,
  startVen,
  startVtn,
  type Js,
} from './test-fixtures.js';

describe('OpenADR VEN falling back to polling', () => {
  let nats: TestServer;
  let vtn: Vtn;
  let reader: Js & { nc: { close(): Promise<void> } };
  let program: OadrObject;
  let ven: WorkerRuntime | undefined;

  before(async () => {
    nats = await startNats();
    reader = await openJs(nats.url);
    vtn = await startVtn();
    program = drProgram(vtn);
  });

  after(async () => {
    await ven?.stop();
    await reader?.nc.close();
    await vtn?.close();
    await nats?.dispose();
  });

  /** Batches of one event stored by the VEN of one vtnId (earlier VENs of this file used other ids). */
  const stored = async (vtnId: string, eventId: string) =>
    (await batchesOf(reader, eventId)).filter((b) => b.events[0]?.source?.sourceId === vtnId).length;

  const restart = async (env: Record<string, string>) => {
    await ven?.stop();
    ven = await startVen(nats, vtn, env);
    return ven;
  };

  it('polls when the VTN cannot reach its webhook', async () => {
    const closedPort = await freePort();
    const rt = await restart({
      BUSWAY_VTN_ID: 'unreachable',
      BUSWAY_CALLBACK_URL: `http://127.0.0.1:${closedPort}/openadr/callback`,
    });
    await waitFor('subscribed', async () => (await outcome(rt, 'subscribed')) === 1, 10_000, 20);
    const event = vtn.createEvent(capEvent(program.id, 610));
    await waitFor(
      'published by polling',
      async () => (await stored('unreachable', event.id)) === 1,
      10_000,
      20,
    );
    const tries = vtn.notifier.deliveries.filter((d) => d.objectId === event.id);
    assert.ok(tries.length > 0 && tries.every((d) => d.status === 0), 'every callback failed to connect');
    assert.equal(await outcome(rt, 'callback-received'), 0);
  });

  it('polls when the VTN refuses subscriptions, and subscribes once it accepts them', async () => {
    vtn.faults.failSubscriptions = true;
    const rt = await restart({ BUSWAY_VTN_ID: 'refused', BUSWAY_RESUBSCRIBE_INTERVAL_MS: '500' });
    await waitFor('refused', async () => (await outcome(rt, 'subscribe-failed')) >= 1, 10_000, 20);
    const event = vtn.createEvent(capEvent(program.id, 620));
    await waitFor('published by polling', async () => (await stored('refused', event.id)) === 1, 10_000, 20);
    vtn.faults.failSubscriptions = false;
    await waitFor('subscribed', async () => (await outcome(rt, 'subscribed')) === 1, 10_000, 20);
    const later = vtn.createEvent(capEvent(program.id, 630));
    await waitFor('a callback', async () => (await outcome(rt, 'callback-received')) >= 1, 10_000, 20);
    await waitFor('published', async () => (await stored('refused', later.id)) === 1, 10_000, 20);
  });

  it('falls back to polling when callbacks stop, and counts the change the webhook missed', async () => {
    const rt = await restart({
      BUSWAY_VTN_ID: 'muted',
      BUSWAY_POLL_INTERVAL_MS: '100',
      BUSWAY_RESYNC_INTERVAL_MS: '1000',
      BUSWAY_CALLBACK_GRACE_MS: '200',
    });
    await waitFor('subscribed', async () => (await outcome(rt, 'subscribed')) === 1, 10_000, 20);
    vtn.createEvent(capEvent(program.id, 640));
    await waitFor(
      'the webhook proven',
      async () => (await outcome(rt, 'callback-received')) >= 1,
      10_000,
      20,
    );
    vtn.faults.muteNotifications = true;
    const silent = vtn.createEvent(capEvent(program.id, 650));
    await waitFor('found by a resync', async () => (await stored('muted', silent.id)) === 1, 10_000, 20);
    await waitFor('the miss counted', async () => (await outcome(rt, 'webhook-missed')) >= 1, 10_000, 20);
    assert.equal(await outcome(rt, 'webhook-missed'), 1);
    // polling again: four reads at 100 ms come well before the three resync intervals (3 s) they would take
    const polls = await outcome(rt, 'poll');
    const since = Date.now();
    await waitFor(
      'polling at pollIntervalMs',
      async () => (await outcome(rt, 'poll')) >= polls + 4,
      10_000,
      10,
    );
    assert.ok(Date.now() - since < 2500, `four reads took ${Date.now() - since} ms: resyncing, not polling`);
    vtn.faults.muteNotifications = false;
    assertVtnConformed(vtn);
  });
});
