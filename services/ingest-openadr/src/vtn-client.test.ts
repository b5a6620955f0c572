import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createLogger, TransientError } from '@busway/runtime';
import { VtnClient, VtnRefused } from './vtn-client.js';

/** A VTN that pages badly: /whole ignores limit, /stuck ignores skip; its token URL is relative. */
describe('the VEN HTTP client against a careless VTN', () => {
  let server: Server;
  let base: string;
  const tokenForms: string[] = [];
  const items = Array.from({ length: 120 }, (_, i) => ({ id: `o-${i}` }));

  before(async () => {
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const send = (status: number, body: unknown) => res.writeHead(status).end(JSON.stringify(body));
      if (url.pathname === '/api/auth/server') return send(200, { tokenURL: 'auth/token' });
      if (url.pathname === '/api/auth/token') {
        let form = '';
        req.on('data', (c: Buffer) => (form += c.toString()));
        req.on('end', () => (tokenForms.push(form), send(200, { access_token: 't', token_type: 'Bearer' })));
        return;
      }
      if (req.headers.authorization !== 'Bearer t') return send(401, {});
      const limit = Number(url.searchParams.get('limit'));
      if (url.pathname === '/api/whole') return send(200, items);
      if (url.pathname === '/api/stuck') return send(200, items.slice(0, limit));
      if (url.pathname === '/api/down') return send(503, {});
      return send(404, { title: 'Not Found' });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
  });

  after(() => new Promise<void>((r) => server.close(() => r())));

  const client = () =>
    new VtnClient(
      { vtnUrl: base, clientId: 'ven', clientSecret: 's3cret', timeoutMs: 2000, pageSize: 50 },
      createLogger('test', 'silent'),
    );

  it('resolves a relative tokenURL against the API base and sends client credentials as a form', async () => {
    const c = client();
    assert.equal(((await c.getAll('/whole')) as unknown[]).length, 120);
    assert.equal(c.tokensFetched, 1);
    assert.equal(tokenForms[0], 'grant_type=client_credentials&client_id=ven&client_secret=s3cret');
  });

  it('stops paging when a VTN ignores limit or skip, instead of reading forever', async () => {
    assert.equal((await client().getAll('/whole')).length, 120, 'everything in one answer');
    assert.equal((await client().getAll('/stuck')).length, 50, 'page one again is the end');
  });

  it('tells transient failures (retry) from refusals (do not)', async () => {
    await assert.rejects(client().get('/down'), TransientError);
    await assert.rejects(
      client().get('/missing'),
      (err: unknown) => err instanceof VtnRefused && err.status === 404,
    );
    await assert.rejects(
      new VtnClient(
        { vtnUrl: 'http://127.0.0.1:1', timeoutMs: 500, pageSize: 50 },
        createLogger('t', 'silent'),
      ).get('/x'),
      TransientError,
    );
  });
});
