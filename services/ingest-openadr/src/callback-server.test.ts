import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '@busway/runtime';
import { CALLBACK_PATH, CallbackServer, type CallbackOutcome } from './callback-server.js';

describe('the webhook listener', () => {
  const counted: string[] = [];
  const received: unknown[] = [];
  let release: (status: CallbackOutcome) => void = () => undefined;
  let server: CallbackServer;
  let url: string;

  before(async () => {
    server = new CallbackServer(
      { port: 0, address: '127.0.0.1', token: 'a-token-of-sixteen+', maxPending: 1 },
      (n) => {
        received.push(n);
        return new Promise<CallbackOutcome>((resolve) => (release = resolve));
      },
      createLogger('test', 'silent'),
      (outcome) => counted.push(outcome),
    );
    url = `http://127.0.0.1:${await server.start()}${CALLBACK_PATH}`;
  });

  after(() => server.close());

  const post = (body: string, token = 'a-token-of-sixteen+') =>
    fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body });

  it('answers a callback only when its handler has stored it, and 503 at once beyond maxPending', async () => {
    let answered = false;
    const first = post('{"objectType":"EVENT"}').then((r) => ((answered = true), r));
    while (received.length === 0) await new Promise((r) => setTimeout(r, 5));
    const second = await post('{"objectType":"EVENT"}');
    assert.equal(second.status, 503, 'the second waits at the VTN, not in the VEN');
    assert.equal(second.headers.get('retry-after'), '1');
    assert.equal(answered, false, 'the first is not answered before its handler resolves');
    release(200);
    assert.equal((await first).status, 200);
    assert.deepEqual(received, [{ objectType: 'EVENT' }]);
    assert.deepEqual(counted, ['callback-busy']);
  });

  it('refuses a wrong or missing token, another path and another method', async () => {
    assert.equal((await post('{}', 'a-token-of-sixteen-')).status, 401);
    assert.equal((await fetch(url, { method: 'POST', body: '{}' })).status, 401);
    assert.equal((await fetch(url.replace(CALLBACK_PATH, '/other'), { method: 'POST' })).status, 404);
    assert.equal((await fetch(url)).status, 405);
    const huge = await post(`{"pad":"${'x'.repeat(1_100_000)}"}`);
    assert.equal(huge.status, 413, 'too large: refused for good, not retried');
    assert.equal(received.length, 1, 'none reached the handler');
  });

  it('hands over a body that is not JSON as such, for the handler to dead-letter', async () => {
    const answer = post('<xml/>');
    while (received.length === 1) await new Promise((r) => setTimeout(r, 5));
    release(400);
    assert.equal((await answer).status, 400);
    assert.deepEqual(received[1], { unparsable: '<xml/>' });
  });
});
