import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeRegisters, REGISTER_TYPES, widthOf, type RegisterType } from '@busway/ingest-modbus';
import { CommandRefused } from '../errors.js';
import { encodeRegisters, quantizeRegister } from './modbus-encode.js';

const orders = fc.constantFrom('big' as const, 'little' as const);

describe('Modbus register encoding of a setpoint', () => {
  it("is undone exactly by ingest-modbus's decoder, for every type, byte order and word order", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...REGISTER_TYPES),
        fc.double({ min: -1e12, max: 1e12, noNaN: true }),
        orders,
        orders,
        (type, x, byteOrder, wordOrder) => {
          let raw: number;
          try {
            raw = quantizeRegister(x, type);
          } catch (err) {
            assert.ok(err instanceof CommandRefused && err.code === 'not-representable', String(err));
            return; // out of the type's range: refused, never written
          }
          const words = encodeRegisters(raw, type, byteOrder, wordOrder);
          assert.equal(words.length, widthOf(type));
          assert.ok(words.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffff));
          assert.equal(decodeRegisters(words, type, byteOrder, wordOrder), raw);
        },
      ),
    );
  });

  it('rounds to what the type holds and refuses what it cannot hold', () => {
    assert.equal(quantizeRegister(213.6, 'int16'), 214);
    assert.equal(quantizeRegister(-0.4, 'uint16'), 0);
    assert.equal(quantizeRegister(21.37, 'float32'), Math.fround(21.37));
    assert.equal(quantizeRegister(21.37, 'float64'), 21.37);
    for (const [x, type] of [
      [40_000, 'int16'],
      [-1, 'uint16'],
      [70_000, 'uint16'],
      [2 ** 32, 'uint32'],
      [1e39, 'float32'],
    ] as [number, RegisterType][])
      assert.throws(() => quantizeRegister(x, type), /does not fit/, `${x} as ${type}`);
  });

  it('lays out a float32 as the device expects: 0x41A4 0x0000 for 20.5, swapped with little word order', () => {
    assert.deepEqual(encodeRegisters(20.5, 'float32'), [0x41a4, 0x0000]);
    assert.deepEqual(encodeRegisters(20.5, 'float32', 'big', 'little'), [0x0000, 0x41a4]);
    assert.deepEqual(encodeRegisters(20.5, 'float32', 'little', 'big'), [0xa441, 0x0000]);
    assert.deepEqual(encodeRegisters(-2, 'int16'), [0xfffe]);
  });
});
