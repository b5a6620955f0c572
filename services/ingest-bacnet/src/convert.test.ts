import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ApplicationTag,
  EngineeringUnits,
  ErrorClass,
  ErrorCode,
  StatusFlags,
  StatusFlagsBitString,
  type BACNetAppData,
} from '@bacnet-js/client';
import { bacappDecodeApplicationData, bacappEncodeApplicationData } from '@bacnet-js/client/dist/lib/asn1.js';
import fc from 'fast-check';
import { busway } from '@busway/proto';
import { ContractViolation, TransientError } from '@busway/runtime';
import { failureOf, rejectsService } from './bacnet-errors.js';
import {
  propertyReadOf,
  sampleValueOf,
  statusOf,
  unitOf,
  type AppValue,
  type SampleValue,
} from './convert.js';
import { isBinary, OBJECT_TYPES } from './object-types.js';

/** A value as a device sends it and the bridge's BACnet stack decodes it: through the library's own codec. */
function overTheWire(v: BACNetAppData): AppValue {
  const buffer = { buffer: Buffer.alloc(1500), offset: 0 };
  bacappEncodeApplicationData(buffer, v);
  const decoded = bacappDecodeApplicationData(buffer.buffer, 0, buffer.offset, 0, 85);
  assert.ok(decoded, `the library decodes what it encoded: ${JSON.stringify(v)}`);
  return { type: decoded.type, value: decoded.value as unknown };
}

const fieldsOf = (v: SampleValue) =>
  (['doubleValue', 'intValue', 'boolValue', 'stringValue'] as const).filter((k) => v[k] !== undefined);

describe('BACnet values as sample values', () => {
  it('types each present value by its application tag, and a binary object’s enumeration as a boolean', () => {
    const wire = (type: ApplicationTag, value: unknown) => [overTheWire({ type, value } as BACNetAppData)];
    assert.deepEqual(sampleValueOf('analog-input', wire(ApplicationTag.REAL, 21.5)), { doubleValue: 21.5 });
    assert.deepEqual(sampleValueOf('large-analog-value', wire(ApplicationTag.DOUBLE, 1e300)), {
      doubleValue: 1e300,
    });
    assert.equal(
      sampleValueOf('accumulator', wire(ApplicationTag.UNSIGNED_INTEGER, 4e9)).intValue?.toNumber(),
      4e9,
    );
    assert.equal(
      sampleValueOf('integer-value', wire(ApplicationTag.SIGNED_INTEGER, -40)).intValue?.toNumber(),
      -40,
    );
    assert.deepEqual(sampleValueOf('binary-value', wire(ApplicationTag.BOOLEAN, true)), { boolValue: true });
    assert.deepEqual(sampleValueOf('binary-input', wire(ApplicationTag.ENUMERATED, 1)), { boolValue: true });
    assert.deepEqual(sampleValueOf('binary-output', wire(ApplicationTag.ENUMERATED, 0)), {
      boolValue: false,
    });
    assert.equal(
      sampleValueOf('multi-state-value', wire(ApplicationTag.UNSIGNED_INTEGER, 3)).intValue?.toNumber(),
      3,
    );
    assert.equal(sampleValueOf('loop', wire(ApplicationTag.ENUMERATED, 7)).intValue?.toNumber(), 7);
    assert.deepEqual(sampleValueOf('characterstring-value', wire(ApplicationTag.CHARACTER_STRING, 'auto')), {
      stringValue: 'auto',
    });
  });

  it('rejects, naming why, what is no number, boolean, enumeration or text', () => {
    const reject = (objectType: (typeof OBJECT_TYPES)[number], values: AppValue[], why: RegExp) =>
      assert.throws(
        () => sampleValueOf(objectType, values),
        (err: unknown) => err instanceof ContractViolation && why.test(err.message),
      );
    reject(
      'analog-value',
      [overTheWire({ type: ApplicationTag.DATE, value: new Date(2026, 0, 1) })],
      /a date is not/,
    );
    reject('analog-value', [overTheWire({ type: ApplicationTag.NULL, value: null })], /a null is not/);
    reject(
      'analog-input',
      [overTheWire({ type: ApplicationTag.REAL, value: NaN })],
      /real NaN is not a finite/,
    );
    reject('binary-input', [overTheWire({ type: ApplicationTag.ENUMERATED, value: 2 })], /binary state 2/);
    reject('analog-input', [], /expected one value, got 0/);
    reject(
      'analog-input',
      [
        { type: ApplicationTag.REAL, value: 1 },
        { type: ApplicationTag.REAL, value: 2 },
      ],
      /got 2/,
    );
    reject('analog-input', [{ type: ApplicationTag.REAL, value: '1' }], /is not a finite number/);
  });

  it('never fails otherwise on any value a device can send, and keeps it exactly (fast-check)', () => {
    const anyWireValue = fc.oneof(
      fc.float().map((value) => ({ type: ApplicationTag.REAL, value })),
      fc.double().map((value) => ({ type: ApplicationTag.DOUBLE, value })),
      fc
        .integer({ min: 0, max: 2 ** 32 - 1 })
        .map((value) => ({ type: ApplicationTag.UNSIGNED_INTEGER, value })),
      fc
        .integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })
        .map((value) => ({ type: ApplicationTag.SIGNED_INTEGER, value })),
      fc.boolean().map((value) => ({ type: ApplicationTag.BOOLEAN, value })),
      fc.integer({ min: 0, max: 2 ** 32 - 1 }).map((value) => ({ type: ApplicationTag.ENUMERATED, value })),
      fc.string({ maxLength: 64 }).map((value) => ({ type: ApplicationTag.CHARACTER_STRING, value })),
      fc
        .date({ min: new Date(1901, 0, 1), max: new Date(2150, 0, 1), noInvalidDate: true })
        .map((value) => ({ type: ApplicationTag.DATE, value })),
      fc.constant({ type: ApplicationTag.NULL, value: null }),
    ) as fc.Arbitrary<BACNetAppData>;
    fc.assert(
      fc.property(fc.constantFrom(...OBJECT_TYPES), anyWireValue, (objectType, sent) => {
        const got = overTheWire(sent);
        const x = got.value;
        let out: SampleValue;
        try {
          out = sampleValueOf(objectType, [got]);
        } catch (err) {
          assert.ok(err instanceof ContractViolation, String(err));
          const rejectable =
            got.type === ApplicationTag.DATE ||
            got.type === ApplicationTag.NULL ||
            (typeof x === 'number' && !Number.isFinite(x)) ||
            (got.type === ApplicationTag.ENUMERATED && isBinary(objectType) && x !== 0 && x !== 1);
          assert.ok(rejectable, `rejected ${JSON.stringify(got)}: ${err.message}`);
          return;
        }
        assert.equal(fieldsOf(out).length, 1, 'exactly one value');
        if (got.type === ApplicationTag.REAL || got.type === ApplicationTag.DOUBLE)
          assert.equal(out.doubleValue, x);
        else if (got.type === ApplicationTag.UNSIGNED_INTEGER || got.type === ApplicationTag.SIGNED_INTEGER)
          assert.equal(out.intValue?.toNumber(), x);
        else if (got.type === ApplicationTag.BOOLEAN) assert.equal(out.boolValue, x);
        else if (got.type === ApplicationTag.ENUMERATED && isBinary(objectType))
          assert.equal(out.boolValue, x === 1);
        else if (got.type === ApplicationTag.ENUMERATED) assert.equal(out.intValue?.toNumber(), x);
        else if (got.type === ApplicationTag.CHARACTER_STRING) assert.equal(out.stringValue, x);
        else assert.fail(`accepted ${JSON.stringify(got)}`);
      }),
      { numRuns: 2000 },
    );
  });

  it('makes FAULT and OUT_OF_SERVICE a bad quality and keeps every flag set, for all 16 combinations', () => {
    const names = ['in-alarm', 'fault', 'overridden', 'out-of-service'];
    fc.assert(
      fc.property(fc.subarray([0, 1, 2, 3] as StatusFlags[]), (bits) => {
        const status = statusOf([
          overTheWire({ type: ApplicationTag.BIT_STRING, value: new StatusFlagsBitString(...bits) }),
        ]);
        const bad = bits.includes(StatusFlags.FAULT) || bits.includes(StatusFlags.OUT_OF_SERVICE);
        assert.equal(status.quality, bad ? busway.v1.Quality.QUALITY_BAD : busway.v1.Quality.QUALITY_GOOD);
        assert.deepEqual(
          status.flags,
          names.filter((_, i) => bits.includes(i)),
        );
      }),
    );
    assert.throws(() => statusOf([{ type: ApplicationTag.REAL, value: 1 }]), /a real is not a bit string/);
  });

  it('reads UNITS as a unit name, a per-property error as its class and code', () => {
    const units = (value: number) => unitOf([{ type: ApplicationTag.ENUMERATED, value }]);
    assert.deepEqual(units(EngineeringUnits.DEGREES_CELSIUS), { name: 'degrees-celsius', known: true });
    assert.deepEqual(units(9999), { name: '', known: false });
    assert.throws(() => unitOf([{ type: ApplicationTag.REAL, value: 62 }]), ContractViolation);
    const error = { errorClass: ErrorClass.OBJECT, errorCode: ErrorCode.UNKNOWN_OBJECT };
    assert.deepEqual(propertyReadOf([{ type: ApplicationTag.ERROR, value: error }]), {
      error: 'object: unknown-object',
    });
    assert.deepEqual(propertyReadOf([{ type: ApplicationTag.REAL, value: 1 }]), {
      values: [{ type: ApplicationTag.REAL, value: 1 }],
    });
  });

  it('classifies what a request fails with', () => {
    assert.deepEqual(failureOf(new Error('BacnetError - Class:1 - Code:31')), {
      kind: 'error',
      errorClass: 1,
      errorCode: 31,
      message: 'object: unknown-object',
    });
    assert.equal(failureOf(new Error('ERR_TIMEOUT')).kind, 'timeout');
    assert.equal(failureOf(new TransientError('no answer in 100 ms')).kind, 'timeout');
    assert.equal(failureOf(new Error('INVALID_DECODING')).kind, 'other');
    assert.ok(
      rejectsService(failureOf(new Error('BacnetError - Class:5 - Code:67'))),
      'services: unrecognized',
    );
    assert.ok(rejectsService(failureOf(new Error('BacnetAbort - Reason:4'))));
    assert.ok(!rejectsService(failureOf(new Error('BacnetError - Class:1 - Code:31'))));
  });
});
