import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { classifyStatus, nextDelayMs, parseRetryAfter, retryDelayMs } from './retry.js';

const NOW = Date.parse('2027-01-15T08:00:00Z');
const policy = { initialBackoffMs: 1000, maxBackoffMs: 60_000, maxRetryAfterMs: 600_000 };

describe('retry policy', () => {
  it('reads Retry-After given as delay-seconds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), (s) => {
        assert.equal(parseRetryAfter(String(s), NOW), s * 1000);
        assert.equal(parseRetryAfter(` ${s} `, NOW), s * 1000);
      }),
    );
  });

  it('reads Retry-After given as an HTTP-date, and a date in the past as no wait', () => {
    fc.assert(
      fc.property(fc.integer({ min: -86_400, max: 86_400 }), (offsetS) => {
        const date = new Date(NOW + offsetS * 1000).toUTCString();
        assert.equal(parseRetryAfter(date, NOW), Math.max(0, offsetS * 1000));
      }),
    );
  });

  it('ignores a Retry-After that is neither form', () => {
    for (const v of [null, undefined, '', '1.5', '-3', 'soon', '12abc'])
      assert.equal(parseRetryAfter(v, NOW), undefined, String(v));
  });

  it('keeps every backoff between half and all of its capped exponential ceiling', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 600_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, initialMs, maxMs, random) => {
          const ceiling = Math.max(initialMs, Math.min(initialMs * 2 ** (attempt - 1), maxMs));
          const d = retryDelayMs(attempt, initialMs, maxMs, random);
          assert.ok(
            d >= Math.floor(ceiling / 2) && d <= ceiling,
            `${d} outside [${ceiling / 2}, ${ceiling}]`,
          );
        },
      ),
    );
  });

  it('grows the backoff ceiling with every attempt until the cap', () => {
    const ceilings = [1, 2, 3, 4, 5, 6, 7, 8].map((a) => retryDelayMs(a, 1000, 60_000, 0.999999));
    assert.deepEqual(ceilings, [1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000]);
  });

  it('lets the endpoint Retry-After win over the backoff, up to the configured limit', () => {
    assert.equal(nextDelayMs({ retryAfterMs: 5000 }, 1, policy, 0.5), 5000);
    assert.equal(nextDelayMs({ retryAfterMs: 3_600_000 }, 1, policy, 0.5), 600_000);
    assert.equal(nextDelayMs({}, 3, policy, 0), 2000);
  });

  it('retries timeouts of the server (5xx, 408, 425, 429) and gives up at once on other 4xx', () => {
    fc.assert(
      fc.property(fc.integer({ min: 100, max: 599 }), (status) => {
        const r = classifyStatus(status, null, NOW);
        if (status >= 200 && status < 300) assert.equal(r.kind, 'delivered');
        else if (status >= 500 || [408, 425, 429].includes(status)) assert.equal(r.kind, 'retryable');
        else assert.equal(r.kind, 'permanent');
      }),
    );
    const r = classifyStatus(429, '7', NOW);
    assert.deepEqual(r, { kind: 'retryable', code: 'http-429', message: 'HTTP 429', retryAfterMs: 7000 });
  });
});
