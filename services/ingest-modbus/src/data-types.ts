/** The four Modbus data tables: two of 16-bit registers, two of single bits. */
export const TABLES = ['holding', 'input', 'coil', 'discrete'] as const;
export type Table = (typeof TABLES)[number];

export const REGISTER_TYPES = ['int16', 'uint16', 'int32', 'uint32', 'float32', 'float64'] as const;
export type RegisterType = (typeof REGISTER_TYPES)[number];

export const DATA_TYPES = [...REGISTER_TYPES, 'bool'] as const;
export type DataType = (typeof DATA_TYPES)[number];

export type Endianness = 'big' | 'little';

/** Highest address of every table (addresses are 0-based on the wire). */
export const MAX_ADDRESS = 65_535;
/** Most registers one read (FC 3 or 4) may ask for. */
export const MAX_REGISTERS_PER_READ = 125;
/** Most bits one read (FC 1 or 2) may ask for. */
export const MAX_BITS_PER_READ = 2000;

export function isBitTable(table: Table): boolean {
  return table === 'coil' || table === 'discrete';
}

/** Registers (16-bit words) a value of this type spans; a bit spans one coil or discrete input. */
export function widthOf(type: DataType): number {
  switch (type) {
    case 'int32':
    case 'uint32':
    case 'float32':
      return 2;
    case 'float64':
      return 4;
    default:
      return 1;
  }
}

export function isIntegerType(type: DataType): boolean {
  return type === 'int16' || type === 'uint16' || type === 'int32' || type === 'uint32';
}
