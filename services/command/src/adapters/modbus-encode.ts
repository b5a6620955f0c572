import { widthOf, type Endianness, type RegisterType } from '@busway/ingest-modbus';
import { CommandRefused, RefusalCode } from '../errors.js';

const INTEGER_RANGE: Partial<Record<RegisterType, [number, number]>> = {
  int16: [-32_768, 32_767],
  uint16: [0, 65_535],
  int32: [-2_147_483_648, 2_147_483_647],
  uint32: [0, 4_294_967_295],
};

/**
 * The raw number a register type can hold nearest to `raw`: integers rounded (and range-checked), float32
 * rounded to single precision. Throws CommandRefused (NotRepresentable) when it does not fit at all.
 */
export function quantizeRegister(raw: number, type: RegisterType): number {
  if (!Number.isFinite(raw))
    throw new CommandRefused(RefusalCode.NotRepresentable, `${raw} is no number a register holds`);
  const range = INTEGER_RANGE[type];
  if (range) {
    const q = Math.round(raw);
    if (q < range[0] || q > range[1])
      throw new CommandRefused(
        RefusalCode.NotRepresentable,
        `${q} does not fit a ${type} (${range[0]} to ${range[1]})`,
      );
    return q === 0 ? 0 : q; // no -0 on the wire
  }
  if (type === 'float32') {
    const q = Math.fround(raw);
    if (!Number.isFinite(q))
      throw new CommandRefused(RefusalCode.NotRepresentable, `${raw} does not fit a float32`);
    return q;
  }
  return raw;
}

/**
 * The 16-bit words that hold `raw` as `type` with the device's byte and word order: the exact inverse of
 * ingest-modbus's decodeRegisters (property-tested against it). `raw` must already fit (quantizeRegister).
 */
export function encodeRegisters(
  raw: number,
  type: RegisterType,
  byteOrder: Endianness = 'big',
  wordOrder: Endianness = 'big',
): number[] {
  const width = widthOf(type);
  const view = new DataView(new ArrayBuffer(width * 2));
  switch (type) {
    case 'int16':
      view.setInt16(0, raw);
      break;
    case 'uint16':
      view.setUint16(0, raw);
      break;
    case 'int32':
      view.setInt32(0, raw);
      break;
    case 'uint32':
      view.setUint32(0, raw);
      break;
    case 'float32':
      view.setFloat32(0, raw);
      break;
    case 'float64':
      view.setFloat64(0, raw);
      break;
  }
  // the value's big-endian bytes, most significant word first; then the device's orders
  const words: number[] = [];
  for (let i = 0; i < width; i++) {
    const hi = view.getUint8(2 * i);
    const lo = view.getUint8(2 * i + 1);
    words.push(byteOrder === 'big' ? (hi << 8) | lo : (lo << 8) | hi);
  }
  return wordOrder === 'big' ? words : words.reverse();
}
