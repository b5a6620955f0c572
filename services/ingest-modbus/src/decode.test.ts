import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DecodeError } from '@busway/runtime';
import type { PointConfig } from './config.js';
import { REGISTER_TYPES, widthOf, type Endianness, type RegisterType } from './data-types.js';
import { decodePoint, decodeRegisters } from './decode.js';

const point = (p: Partial<PointConfig>): PointConfig => ({
  name: 'p',
  table: 'holding',
  address: 0,
  type: 'uint16',
  byteOrder: 'big',
  wordOrder: 'big',
  scale: 1,
  offset: 0,
  unit: '',
  ...p,
});

/** The registers a device with this byte and word order sends for a value: the reference encoder. */
function encode(value: number, type: RegisterType, byteOrder: Endianness, wordOrder: Endianness): number[] {
  const view = new DataView(new ArrayBuffer(widthOf(type) * 2));
  if (type === 'int16') view.setInt16(0, value);
  if (type === 'uint16') view.setUint16(0, value);
  if (type === 'int32') view.setInt32(0, value);
  if (type === 'uint32') view.setUint32(0, value);
  if (type === 'float32') view.setFloat32(0, value);
  if (type === 'float64') view.setFloat64(0, value);
  const words: number[] = [];
  for (let i = 0; i < widthOf(type); i++) {
    const w = view.getUint16(2 * i);
    words.push(byteOrder === 'big' ? w : ((w & 0xff) << 8) | (w >> 8));
  }
  return wordOrder === 'big' ? words : words.reverse();
}

const valueOf: Record<RegisterType, fc.Arbitrary<number>> = {
  int16: fc.integer({ min: -32768, max: 32767 }),
  uint16: fc.integer({ min: 0, max: 65535 }),
  int32: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  uint32: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
  float32: fc.float({ noNaN: true, noDefaultInfinity: true }).map(Math.fround),
  float64: fc.double({ noNaN: true, noDefaultInfinity: true }),
};
const order = fc.constantFrom<Endianness>('big', 'little');

describe('register decoding', () => {
  it('reads the usual layouts of a float32, an int32 and 16-bit words', () => {
    assert.equal(decodeRegisters([0x41ac, 0x0000], 'float32'), 21.5);
    assert.equal(decodeRegisters([0x0000, 0x41ac], 'float32', 'big', 'little'), 21.5);
    assert.equal(decodeRegisters([0xac41, 0x0000], 'float32', 'little', 'big'), 21.5);
    assert.equal(decodeRegisters([0x0000, 0xac41], 'float32', 'little', 'little'), 21.5);
    assert.equal(decodeRegisters([0xfffe, 0x1dc0], 'int32'), -123_456);
    assert.equal(decodeRegisters([0x1dc0, 0xfffe], 'int32', 'big', 'little'), -123_456);
    assert.equal(decodeRegisters([0xfffe, 0x1dc0], 'uint32'), 0xfffe1dc0);
    assert.equal(decodeRegisters([0xffff], 'int16'), -1);
    assert.equal(decodeRegisters([0xffff], 'uint16'), 65_535);
    assert.equal(decodeRegisters([0x0100], 'uint16', 'little'), 1);
    assert.equal(decodeRegisters([0x4009, 0x21fb, 0x5444, 0x2d18], 'float64'), Math.PI);
    assert.equal(decodeRegisters([0x2d18, 0x5444, 0x21fb, 0x4009], 'float64', 'big', 'little'), Math.PI);
  });

  it('decodes what the reference encoder wrote, in every byte and word order', () => {
    const typed = fc
      .constantFrom(...REGISTER_TYPES)
      .chain((type) => fc.tuple(fc.constant(type), valueOf[type]));
    fc.assert(
      fc.property(typed, order, order, ([type, value], byteOrder, wordOrder) => {
        const words = encode(value, type, byteOrder, wordOrder);
        assert.ok(Object.is(decodeRegisters(words, type, byteOrder, wordOrder), value));
      }),
      { numRuns: 2000 },
    );
  });

  it('never fails on random register words with anything but a DecodeError, and never returns a non-finite value', () => {
    const word = fc.oneof(
      fc.integer({ min: 0, max: 0xffff }),
      fc.integer({ min: 0, max: 0xffff }),
      fc.integer(),
      fc.double(),
    );
    fc.assert(
      fc.property(
        fc.array(word, { maxLength: 8 }),
        fc.constantFrom(...REGISTER_TYPES),
        order,
        order,
        fc.integer({ min: -2, max: 8 }),
        fc.double(),
        fc.double(),
        (words, type, byteOrder, wordOrder, address, scale, offset) => {
          const p = point({ type, byteOrder, wordOrder, address, scale, offset });
          try {
            const v = decodePoint(p, 0, { kind: 'registers', words });
            assert.ok(v.kind !== 'bool' && Number.isFinite(v.value), `decoded ${String(v.value)}`);
          } catch (err) {
            assert.ok(err instanceof DecodeError, `unexpected ${String(err)}`);
          }
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('applies scale and offset, keeps unscaled integers integral, and reads bits', () => {
    assert.deepEqual(decodePoint(point({ address: 11 }), 10, { kind: 'registers', words: [0, 500] }), {
      kind: 'int',
      value: 500,
    });
    const scaled = decodePoint(point({ scale: 0.1, offset: -10 }), 0, { kind: 'registers', words: [500] });
    assert.equal(scaled.kind, 'double');
    assert.ok(Math.abs(Number(scaled.value) - 40) < 1e-9);
    assert.deepEqual(decodePoint(point({ type: 'float32' }), 0, { kind: 'registers', words: [0x41ac, 0] }), {
      kind: 'double',
      value: 21.5,
    });
    const coil = point({ table: 'coil', address: 3, type: 'bool' });
    assert.deepEqual(decodePoint(coil, 0, { kind: 'bits', bits: [false, false, false, true] }), {
      kind: 'bool',
      value: true,
    });
  });

  it('rejects a NaN, an infinity and a point outside the data read with a DecodeError', () => {
    const f32 = point({ type: 'float32' });
    assert.throws(() => decodePoint(f32, 0, { kind: 'registers', words: [0x7fc0, 0] }), DecodeError);
    assert.throws(() => decodePoint(f32, 0, { kind: 'registers', words: [0x7f80, 0] }), /give Infinity/);
    assert.throws(() => decodePoint(f32, 0, { kind: 'registers', words: [0x41ac] }), /outside the data read/);
    assert.throws(
      () => decodePoint(point({ address: 5 }), 10, { kind: 'registers', words: [1] }),
      DecodeError,
    );
    assert.throws(() => decodePoint(f32, 0, { kind: 'bits', bits: [true, true] }), /read as a bit/);
  });
});
