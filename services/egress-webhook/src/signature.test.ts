import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import { secretKey, signatureHeaders } from './signature.js';

describe('Standard Webhooks signature', () => {
  it('is accepted by the standardwebhooks reference library for any body, id and key', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 64 }),
        fc.string({ minLength: 1, maxLength: 40 }).filter((s) => !s.includes('.')),
        fc.string({ maxLength: 2000 }),
        (keyBytes, id, body) => {
          const secret = `whsec_${Buffer.from(keyBytes).toString('base64')}`;
          const ts = Math.floor(Date.now() / 1000);
          const headers = signatureHeaders(secretKey(secret), id, ts, body);
          new Webhook(secret).verify(body, headers, { jsonParse: false }); // throws when the signature is wrong
        },
      ),
      { numRuns: 200 },
    );
  });

  it('is refused by the reference library once the body changes', () => {
    const secret = `whsec_${Buffer.from('0123456789abcdef0123').toString('base64')}`;
    const headers = signatureHeaders(secretKey(secret), 'evt-1', Math.floor(Date.now() / 1000), '{"a":1}');
    assert.throws(() => new Webhook(secret).verify('{"a":2}', headers));
  });

  it('uses a secret without the whsec_ prefix as its UTF-8 bytes', () => {
    assert.deepEqual(secretKey('plain-secret'), Buffer.from('plain-secret'));
  });
});
