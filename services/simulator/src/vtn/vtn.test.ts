import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { SimulatorConfigSchema } from '../config.js';
import { curtailmentRequests, simulatedVtnOptions } from './curtailment.js';
import { openAdrSpec } from './spec.js';
import { Vtn } from './vtn.js';

const VEN = { clientId: 'ven-a', clientSecret: 'secret-a', role: 'ven' as const };
const OTHER = { clientId: 'ven-b', clientSecret: 'secret-b', role: 'ven' as const };

describe('the simulated OpenADR 3.1 VTN', () => {
  let vtn: Vtn;
  let hook: Server;
  const calls: { auth?: string; body: unknown }[] = [];
  let failCalls = 2;

  before(async () => {
    vtn = await Vtn.start({
      clients: [VEN, OTHER],
      tokenTtlS: 60,
      basePath: '/openadr3/3.1.0',
      notifier: { initialDelayMs: 20, maxDelayMs: 50 },
    });
    // a webhook that fails twice, then accepts
    hook = createServer((req: IncomingMessage, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', () => {
        calls.push({ auth: req.headers.authorization, body: JSON.parse(text) as unknown });
        res.writeHead(failCalls-- > 0 ? 503 : 200).end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  });

  after(async () => {
    await vtn.close();
    await new Promise<void>((r) => hook.close(() => r()));
  });

  const token = async (client = VEN) => {
    const res = await fetch(`${vtn.url}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: client.clientId,
        client_secret: client.clientSecret,
      }),
    });
    assert.equal(res.status, 200);
    return ((await res.json()) as { access_token: string }).access_token;
  };
  const call = async (method: string, path: string, body?: unknown, client = VEN) =>
    fetch(`${vtn.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${await token(client)}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  it('advertises its token endpoint and issues tokens for known clients only', async () => {
    const info = (await (await fetch(`${vtn.url}/auth/server`)).json()) as { tokenURL: string };
    assert.equal(info.tokenURL, `${vtn.url}/auth/token`);
    const refused = await fetch(info.tokenURL, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&client_id=ven-a&client_secret=wrong',
    });
    assert.equal(refused.status, 401);
    const badGrant = await fetch(info.tokenURL, {
      method: 'POST',
      body: 'grant_type=password&client_id=a&client_secret=b',
    });
    assert.equal(badGrant.status, 400);
    assert.equal(((await badGrant.json()) as { error: string }).error, 'unsupported_grant_type');
    assert.equal((await fetch(`${vtn.url}/events`)).status, 401);
  });

  it('refuses bodies the document refuses, and writes only what a client may write', async () => {
    const bad = await call('POST', '/vens', { objectType: 'VEN_VEN_REQUEST' });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { detail: string }).detail, /venName/);
    assert.equal(
      (await call('POST', '/events', { programID: 'x' })).status,
      403,
      'a VEN does not write events',
    );
    assert.equal((await call('GET', '/events?limit=51')).status, 400);
    const ven = await call('POST', '/vens', { objectType: 'VEN_VEN_REQUEST', venName: 'ven-a-1' });
    assert.equal(ven.status, 201);
    const created = (await ven.json()) as { clientID: string; objectType: string };
    assert.equal(created.clientID, 'ven-a', 'the clientID comes from the token');
    assert.equal(created.objectType, 'VEN');
    assert.equal(
      (await call('POST', '/vens', { objectType: 'VEN_VEN_REQUEST', venName: 'ven-a-1' })).status,
      409,
    );
    assert.deepEqual(
      await (await call('GET', '/vens', undefined, OTHER)).json(),
      [],
      'a VEN sees only its own',
    );
  });

  it('notifies a subscription with its bearer token, retrying until the webhook accepts', async () => {
    const { port } = hook.address() as AddressInfo;
    const sub = await call('POST', '/subscriptions', {
      clientName: 'ven-a-1',
      objectOperations: [
        {
          objects: ['EVENT'],
          operations: ['CREATE', 'DELETE'],
          callbackUrl: `http://127.0.0.1:${port}/cb`,
          bearerToken: 'hook-token',
        },
      ],
    });
    assert.equal(sub.status, 201);
    const r = curtailmentRequests(
      { issueAfterMs: 0, limitKw: 100, curtailmentS: 20, pricesUsdPerKwh: [0.1, 0.2], priceIntervalS: 10 },
      Date.now(),
    );
    const program = vtn.createProgram(r.program);
    const event = vtn.createEvent(r.curtailment(program.id));
    await vtn.notifier.idle();
    assert.deepEqual(
      vtn.notifier.deliveries.map((d) => [d.objectId, d.attempt, d.status]),
      [
        [event.id, 1, 503],
        [event.id, 2, 503],
        [event.id, 3, 200],
      ],
    );
    assert.equal(calls[2]?.auth, 'Bearer hook-token');
    assert.equal(openAdrSpec().check('notification', calls[2]?.body), undefined);
    vtn.cancelEvent(event.id);
    await vtn.notifier.idle();
    assert.equal((calls[3]?.body as { operation: string }).operation, 'DELETE');
    assert.deepEqual(vtn.invalidResponses, []);
  });

  it('caps the default simulated plant at 60 % of its full load, for the VEN client the config names', () => {
    const config = SimulatorConfigSchema.parse({ vtnPort: 8088 });
    const options = simulatedVtnOptions(config);
    // 2 rows x 4 racks, each 4 nodes of 8 GPUs at full power plus the rack's overhead
    assert.equal(options.plan.limitKw, Math.round(0.6 * 8 * (4 * (1.5 + 8 * 0.7) + 0.5)));
    assert.deepEqual(options.clients, [
      { clientId: 'busway-ven', clientSecret: 'busway-ven-secret', role: 'ven' },
    ]);
    assert.equal(options.port, 8088);
  });
});
