import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ContractViolation, DecodeError } from '@busway/runtime';
import { parseMetadata, parseValue } from './metadata.js';
import { parseOffsetMs } from './replay.js';

describe('capture offsets', () => {
  it('reads the Go-style durations the capture writes', () => {
    assert.equal(parseOffsetMs('0s'), 0);
    assert.equal(parseOffsetMs('3.4731ms'), 3.4731);
    assert.ok(Math.abs(parseOffsetMs('1m39.3675441s') - 99_367.5441) < 1e-6);
    assert.throws(() => parseOffsetMs('soon'), /bad offset/);
    assert.throws(() => parseOffsetMs('1s2x'), /bad offset/);
  });
});

describe('BMS payload decoding', () => {
  it('never fails on arbitrary bytes or JSON with anything but a decode error or a contract violation', () => {
    const payloads = fc.oneof(
      fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
      fc.json().map((j) => Buffer.from(j)),
      fc
        .record(
          {
            value: fc.oneof(fc.double(), fc.boolean(), fc.constant(null), fc.string()),
            timestamp: fc.integer(),
            quality: fc.integer(),
          },
          { requiredKeys: [] },
        )
        .map((o) => Buffer.from(JSON.stringify(o))),
    );
    fc.assert(
      fc.property(payloads, (p) => {
        for (const parse of [parseValue, parseMetadata]) {
          try {
            parse(p, 'BMS/v1/PUB/Value/Rack/RackPower/x');
          } catch (err) {
            assert.ok(err instanceof DecodeError || err instanceof ContractViolation, String(err));
          }
        }
      }),
    );
  });

  it('accepts the contract value shape, a null reading included', () => {
    assert.equal(parseValue(Buffer.from('{"value":null,"timestamp":1,"quality":0}'), 't').value, null);
    assert.throws(() => parseValue(Buffer.from('{"value":1,"timestamp":1}'), 't'), /quality/);
  });
});
