import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Authenticator, hashToken, RateLimiter } from './auth.js';
import { ApiError } from './errors.js';

const READER = 'r3ad-0123456789abcdef0123456789abcdef';
const WRITER = 'wr1te-0123456789abcdef0123456789abcdef';
const auth = new Authenticator([
  { name: 'grafana', sha256: hashToken(READER), scopes: ['read'] },
  { name: 'operator', sha256: hashToken(WRITER), scopes: ['read', 'write'] },
]);
const refusal = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    assert.ok(err instanceof ApiError);
    return `${err.status} ${err.code}`;
  }
  return 'accepted';
};

describe('bearer tokens', () => {
  it('stores the SHA-256 of a token, never the token', () => {
    assert.equal(hashToken('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('knows a client by its token and refuses a missing, malformed or unknown one with 401', () => {
    assert.equal(auth.authenticate(`Bearer ${READER}`).name, 'grafana');
    assert.equal(
      refusal(() => auth.authenticate(undefined)),
      '401 missing-token',
    );
    assert.equal(
      refusal(() => auth.authenticate(`Basic ${READER}`)),
      '401 malformed-authorization',
    );
    assert.equal(
      refusal(() => auth.authenticate(`Bearer ${READER} extra`)),
      '401 malformed-authorization',
    );
    assert.equal(
      refusal(() => auth.authenticate('Bearer nope')),
      '401 unknown-token',
    );
  });

  it('keeps read and write apart: a read token is refused a write route with 403', () => {
    const reader = auth.authenticate(`Bearer ${READER}`);
    const operator = auth.authenticate(`Bearer ${WRITER}`);
    assert.equal(
      refusal(() => Authenticator.require(reader, 'write')),
      '403 missing-scope',
    );
    assert.equal(
      refusal(() => Authenticator.require(operator, 'write')),
      'accepted',
    );
    assert.equal(
      refusal(() => Authenticator.require(reader, 'read')),
      'accepted',
    );
  });
});

describe('rate limit', () => {
  it('lets a burst of ratePerS through, refuses the next with 429, and refills with time', () => {
    const limiter = new RateLimiter(5);
    for (let i = 0; i < 5; i++) limiter.take('c', 1000);
    assert.equal(
      refusal(() => limiter.take('c', 1000)),
      '429 rate-limited',
    );
    assert.equal(
      refusal(() => limiter.take('other', 1000)),
      'accepted',
      'per client',
    );
    assert.equal(
      refusal(() => limiter.take('c', 1200)),
      'accepted',
      '200 ms later one more is allowed',
    );
    assert.equal(
      refusal(() => limiter.take('c', 1200)),
      '429 rate-limited',
    );
  });
});
