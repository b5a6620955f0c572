import { DecodeError } from '@busway/runtime';
import type { PointConfig } from './config.js';
import { isIntegerType, widthOf, type Endianness, type RegisterType } from './data-types.js';

/** What one block read returned: 16-bit words from a register table, or bits from a coil/discrete table. */
export type BlockData =
  { kind: 'registers'; words: readonly number[] } | { kind: 'bits'; bits: readonly boolean[] };

/** A decoded point value, typed as the sample will carry it. */
export type PointValue =
  { kind: 'double'; value: number } | { kind: 'int'; value: number } | { kind: 'bool'; value: boolean };

const hex = (words: readonly number[]) =>
  words.map((w) => (Number.isInteger(w) ? w.toString(16).padStart(4, '0') : String(w))).join(' ');

/** The bytes of registers as the value's big-endian layout, after undoing the device's byte and word order. */
export function bytesOf(words: readonly number[], byteOrder: Endianness, wordOrder: Endianness): Uint8Array {
  const ordered = wordOrder === 'big' ? words : [...words].reverse();
  const bytes = new Uint8Array(ordered.length * 2);
  ordered.forEach((w, i) => {
    const hi = (w >> 8) & 0xff;
    const lo = w & 0xff;
    bytes[2 * i] = byteOrder === 'big' ? hi : lo;
    bytes[2 * i + 1] = byteOrder === 'big' ? lo : hi;
  });
  return bytes;
}

/** The raw number that registers hold. Throws DecodeError on a wrong word count or a word outside 0..65535. */
export function decodeRegisters(
  words: readonly number[],
  type: RegisterType,
  byteOrder: Endianness = 'big',
  wordOrder: Endianness = 'big',
): number {
  if (words.length !== widthOf(type))
    throw new DecodeError(`a ${type} needs ${widthOf(type)} registers, got ${words.length}`);
  if (!words.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffff))
    throw new DecodeError(`registers [${hex(words)}] are not all 16-bit words`);
  const view = new DataView(bytesOf(words, byteOrder, wordOrder).buffer);
  switch (type) {
    case 'int16':
      return view.getInt16(0);
    case 'uint16':
      return view.getUint16(0);
    case 'int32':
      return view.getInt32(0);
    case 'uint32':
      return view.getUint32(0);
    case 'float32':
      return view.getFloat32(0);
    case 'float64':
      return view.getFloat64(0);
  }
}

/**
 * Decodes one point from the block that holds it: raw × scale + offset. An integer type without scaling stays
 * an integer. Throws DecodeError when the point is outside the data, or the value is not finite (NaN, ±∞).
 */
export function decodePoint(point: PointConfig, blockStart: number, data: BlockData): PointValue {
  const at = point.address - blockStart;
  const width = widthOf(point.type);
  const length = data.kind === 'bits' ? data.bits.length : data.words.length;
  if (at < 0 || at + width > length)
    throw new DecodeError(
      `point '${point.name}' (${point.table} ${point.address}) is outside the data read (${blockStart}+${length})`,
    );
  if (data.kind === 'bits') {
    if (point.type !== 'bool')
      throw new DecodeError(`point '${point.name}' is a ${point.type}, read as a bit`);
    return { kind: 'bool', value: data.bits[at] === true };
  }
  if (point.type === 'bool') throw new DecodeError(`point '${point.name}' is a bit, read as registers`);
  const words = data.words.slice(at, at + width);
  const raw = decodeRegisters(words, point.type, point.byteOrder, point.wordOrder);
  const value = raw * point.scale + point.offset;
  if (!Number.isFinite(value))
    throw new DecodeError(`point '${point.name}': registers [${hex(words)}] as ${point.type} give ${value}`);
  const integer = isIntegerType(point.type) && point.scale === 1 && point.offset === 0;
  return integer ? { kind: 'int', value } : { kind: 'double', value };
}
