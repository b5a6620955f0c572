import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { busway } from '@busway/proto';
import type { WorkerRuntime } from '@busway/runtime';
import type { OadrObject, Vtn } from '@busway/simulator';
import { startNats, waitFor, type TestServer } from '@busway/testkit';
import {
  assertVtnConformed,
  batchesOf,
  CALLBACK_TOKEN,
  capEvent,
  deadLetters,
  drProgram,
  openJs,
  outcome,
  signalBatches,
  startVen,
  startVtn,
  VEN_CLIENT,
  type Js,
} from './test-fixtures.js';

describe('OpenADR VEN against a VTN built from the 3.1.0 document', () => {
  let nats: TestServer;
  let vtn: Vtn;
  let ven: WorkerRuntime;
  let reader: Js & { nc: { close(): Promise<void> } };
  let program: OadrObject;
  const early: OadrObject[] = [];
  const callbackUrl = () => {
    const sub = vtn.list('subscriptions')[0] as { objectOperations?: { callbackUrl: string }[] } | undefined;
    return sub?.objectOperations?.[0]?.callbackUrl;
  };
  const deliveredOk = (eventId: string, operation: string) =>
    vtn.notifier.deliveries.some(
      (d) => d.objectId === eventId && d.operation === operation && d.status === 200,
    );

  before(async () => {
    nats = await startNats();
    reader = await openJs(nats.url);
    vtn = await startVtn({ tokenTtlS: 2 });
    // more programs and events than one page holds
    for (let i = 0; i < 56; i++) vtn.createProgram({ programName: `filler-${i}` });
    program = drProgram(vtn);
    for (let i = 0; i < 55; i++) early.push(vtn.createEvent(capEvent(program.id, 1000 + i)));
    ven = await startVen(nats, vtn);
  });

  after(async () => {
    await ven?.stop();
    await reader?.nc.close();
    await vtn?.close();
    await nats?.dispose();
  });

  it('registers its ven by name under the clientID of its token and reads every event, page by page', async () => {
    await waitFor('55 events published', async () => (await signalBatches(reader)).length >= 55, 15_000, 100);
    const vens = vtn.list('vens');
    assert.equal(vens.length, 1);
    assert.equal(vens[0]?.venName, 'busway-ven');
    assert.equal(vens[0]?.clientID, VEN_CLIENT.clientId);
    const eventReads = vtn.requests.filter((r) => r.path === '/events' && r.method === 'GET');
    assert.ok(
      eventReads.some((r) => /skip=50/.test(r.query) && /limit=50/.test(r.query)),
      'the second page was read',
    );
    const programReads = vtn.requests.filter((r) => r.path === '/programs' && /skip=50/.test(r.query));
    assert.ok(programReads.length > 0, 'programs are paged too');
    const batches = await signalBatches(reader);
    const values = batches.map((b) => b.events[0]?.grid?.value).sort((a, b) => (a ?? 0) - (b ?? 0));
    assert.deepEqual(
      values,
      Array.from({ length: 55 }, (_, i) => 1000 + i),
      'each event once',
    );
    assert.equal(
      batches[0]?.events[0]?.grid?.program,
      'busway-dr',
      'named after its program, found on page 2',
    );
  });

  it('fetches its token from the endpoint /auth/server advertises, renews it before expiry and after a 401', async () => {
    assert.ok(vtn.requests.some((r) => r.path === '/auth/server'));
    await waitFor(
      'a renewal before expiry',
      async () => (await outcome(ven, 'token-expiring')) >= 1,
      10_000,
      50,
    );
    vtn.auth.revokeAll();
    await waitFor(
      'a renewal after a 401',
      async () => (await outcome(ven, 'token-refused')) >= 1,
      10_000,
      50,
    );
    assert.ok((vtn.auth.issued.get(VEN_CLIENT.clientId) ?? 0) >= 3);
    const polls = await outcome(ven, 'poll');
    await waitFor(
      'polling goes on with the new token',
      async () => (await outcome(ven, 'poll')) > polls + 1,
      10_000,
      50,
    );
  });

  it('subscribes, and answers a callback 200 only once the signals are in JetStream', async () => {
    await waitFor('subscribed', async () => callbackUrl() !== undefined, 10_000, 50);
    const sub = vtn.list('subscriptions')[0] as unknown as {
      clientID?: string;
      objectOperations: { bearerToken: string }[];
    };
    assert.equal(sub.clientID, VEN_CLIENT.clientId);
    assert.equal(sub.objectOperations[0]?.bearerToken, CALLBACK_TOKEN);
    const event = vtn.createEvent(capEvent(program.id, 700, Date.now() + 5_000, { priority: 1 }));
    await waitFor('the callback answered 200', async () => deliveredOk(event.id, 'CREATE'), 10_000, 5);
    // the VEN answers after the PubAck: at the moment of the 200 the batch is already stored
    const [batch] = await batchesOf(reader, event.id);
    assert.ok(batch, 'stored before the 200');
    assert.equal(batch.events[0]?.grid?.priority, 1);
    assert.equal(batch.events[0]?.grid?.unit, 'kW');
    assert.ok((await outcome(ven, 'callback-received')) >= 1);
  });

  it('publishes an updated event as a new signal and a cancelled one as CANCELLED signals', async () => {
    const event = vtn.createEvent(capEvent(program.id, 900));
    await waitFor('created', async () => (await batchesOf(reader, event.id)).length === 1, 10_000, 20);
    vtn.updateEvent(event.id, capEvent(program.id, 450));
    await waitFor('updated', async () => (await batchesOf(reader, event.id)).length === 2, 10_000, 20);
    vtn.cancelEvent(event.id);
    await waitFor('cancelled', async () => (await batchesOf(reader, event.id)).length === 3, 10_000, 20);
    const [created, updated, cancelled] = await batchesOf(reader, event.id);
    assert.equal(created?.events[0]?.grid?.value, 900);
    assert.equal(updated?.events[0]?.grid?.value, 450);
    assert.notEqual(created?.msgId, updated?.msgId);
    assert.equal(cancelled?.events[0]?.grid?.value, 450, 'the revision in force is withdrawn');
    assert.equal(cancelled?.events[0]?.grid?.status, busway.v1.GridSignalStatus.GRID_SIGNAL_STATUS_CANCELLED);
    assert.match(cancelled?.msgId ?? '', /:cancelled:/);
  });

  it('stores a re-delivered callback once', async () => {
    const event = vtn.createEvent(capEvent(program.id, 333));
    await waitFor('delivered', async () => deliveredOk(event.id, 'CREATE'), 10_000, 20);
    const duplicatesBefore = await outcome(ven, 'event-duplicate');
    const notification = {
      objectType: 'EVENT',
      operation: 'CREATE',
      object: vtn.list('events').find((e) => e.id === event.id),
    };
    for (let i = 0; i < 2; i++) {
      const res = await fetch(callbackUrl() ?? '', {
        method: 'POST',
        headers: { authorization: `Bearer ${CALLBACK_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify(notification),
      });
      assert.equal(res.status, 200);
    }
    assert.equal((await batchesOf(reader, event.id)).length, 1);
    // a resync running meanwhile may count duplicates of its own
    assert.ok((await outcome(ven, 'event-duplicate')) >= duplicatesBefore + 2);
  });

  it('refuses a callback without the subscription bearer token', async () => {
    const res = await fetch(callbackUrl() ?? '', {
      method: 'POST',
      headers: { authorization: 'Bearer guessed', 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(res.status, 401);
    assert.ok((await outcome(ven, 'callback-unauthorized')) >= 1);
  });

  it('dead-letters what it cannot read, with the reason, and publishes the rest of the event', async () => {
    const event = vtn.createEvent({
      programID: program.id,
      intervalPeriod: { start: new Date(Date.now() + 60_000).toISOString(), duration: 'PT5M' },
      intervals: [
        {
          id: 0,
          payloads: [
            { type: 'PRICE', values: [0.42] },
            { type: 'NEGAWATT_BONUS', values: [3] },
          ],
        },
        { id: 1, payloads: [{ type: 'SIMPLE', values: [9] }] },
      ],
    });
    await waitFor('two dead letters', async () => (await deadLetters(reader)).length >= 2, 10_000, 20);
    const letters = await deadLetters(reader);
    assert.deepEqual(letters.map((l) => l.code).sort(), ['bad-payload', 'unknown-payload-type']);
    assert.match(letters.find((l) => l.code === 'unknown-payload-type')?.reason ?? '', /NEGAWATT_BONUS/);
    assert.equal(
      (letters[0]?.object as { id?: string }).id,
      event.id,
      'the dead letter holds the event as sent',
    );
    const [batch] = await batchesOf(reader, event.id);
    assert.deepEqual(
      batch?.events.map((e) => [e.grid?.signalType, e.grid?.value, e.grid?.unit]),
      [['PRICE', 0.42, '{USD}/(kW.h)']],
    );

    const res = await fetch(callbackUrl() ?? '', {
      method: 'POST',
      headers: { authorization: `Bearer ${CALLBACK_TOKEN}` },
      body: 'not a notification',
    });
    assert.equal(res.status, 400);
    await waitFor(
      'the notification dead-lettered',
      async () => (await deadLetters(reader)).length === 3,
      10_000,
      20,
    );
  });

  it('after a restart republishes nothing and still learns of a cancellation made while it was down', async () => {
    const before = (await signalBatches(reader)).length;
    await ven.stop();
    assert.equal(vtn.list('subscriptions').length, 0, 'its subscription deleted on stop');
    const gone = early[0] as OadrObject;
    vtn.cancelEvent(gone.id);
    ven = await startVen(nats, vtn);
    await waitFor(
      'the cancellation',
      async () => (await batchesOf(reader, gone.id)).length === 2,
      10_000,
      50,
    );
    await waitFor('polled again', async () => (await outcome(ven, 'poll')) >= 2, 10_000, 50);
    assert.equal((await signalBatches(reader)).length, before + 1, 'only the cancellation is new');
    assert.equal(vtn.list('vens').length, 1, 'the ven was found, not registered again');
    assert.equal(await outcome(ven, 'ven-registered'), 0);
    await waitFor('subscribed again', async () => vtn.list('subscriptions').length === 1, 10_000, 50);
    assertVtnConformed(vtn);
  });
});
