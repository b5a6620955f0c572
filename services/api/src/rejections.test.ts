import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { Rejections } from './rejections.js';

describe('refused requests', () => {
  it('are each logged with the reason and counted, and a flood is summarized instead of logged line by line', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split('\n'))
          if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
        done();
      },
    });
    const registry = new Registry();
    const rejections = new Rejections(registry, pino(sink), 3, 60_000);
    const r = { method: 'GET', path: '/v1/values', ip: '127.0.0.1' };
    rejections.record({
      ...r,
      status: 401,
      code: 'missing-token',
      reason: 'an Authorization header is required',
    });
    for (let i = 0; i < 9; i++)
      rejections.record({
        ...r,
        status: 403,
        code: 'missing-scope',
        reason: 'lacks write',
        client: 'grafana',
      });
    rejections.close(); // flushes the summary
    await new Promise((res) => setImmediate(res));

    const single = lines.filter((l) => String(l.msg).startsWith('request refused'));
    assert.equal(single.length, 3, 'the first three get a line each');
    assert.equal(single[0]?.msg, 'request refused: 401 missing-token: an Authorization header is required');
    assert.equal(single[0]?.path, '/v1/values');
    assert.equal(single[1]?.client, 'grafana');
    const summary = lines.find((l) => String(l.msg).includes('403 missing-scope: 7'));
    assert.ok(summary, `the other seven are summarized: ${JSON.stringify(lines.map((l) => l.msg))}`);
    const metric = await registry.getSingleMetric('busway_api_rejections_total')?.get();
    const count = (code: string) => metric?.values.find((v) => v.labels.code === code)?.value;
    assert.equal(count('missing-token'), 1);
    assert.equal(count('missing-scope'), 9);
  });
});
