import { z } from 'zod';
import { RuntimeConfigSchema, fromJson } from '@busway/runtime';
import {
  DATA_TYPES,
  isBitTable,
  MAX_ADDRESS,
  MAX_REGISTERS_PER_READ,
  TABLES,
  widthOf,
  type DataType,
} from './data-types.js';

/** One value a device exposes: where it lives, how its registers encode it, and how to scale it. */
export const PointSchema = z
  .object({
    /** Name at the source; the point id is `modbus:<device id>:<name>`. */
    name: z.string().min(1),
    table: z.enum(TABLES),
    /** 0-based address on the wire (holding register 40001 is address 0). */
    address: z.number().int().min(0).max(MAX_ADDRESS),
    /** @default bool on coils and discrete inputs, uint16 on registers */
    type: z.enum(DATA_TYPES).optional(),
    /** Byte order inside each 16-bit register. @default big */
    byteOrder: z.enum(['big', 'little']).default('big'),
    /** Register order of a 32- or 64-bit value: big = most significant register first. @default big */
    wordOrder: z.enum(['big', 'little']).default('big'),
    /** value = raw × scale + offset. @default 1 */
    scale: z.number().default(1),
    /** @default 0 */
    offset: z.number().default(0),
    /** Source unit string (kW, degC, V); the normalizer maps it to UCUM. @default '' */
    unit: z.string().default(''),
  })
  .transform((p, ctx) => {
    const bits = isBitTable(p.table);
    const type: DataType = p.type ?? (bits ? 'bool' : 'uint16');
    if (bits !== (type === 'bool')) {
      ctx.addIssue({
        code: 'custom',
        path: ['type'],
        message: `point '${p.name}': ${bits ? `a ${p.table} is a bit, type must be bool` : `a ${p.table} register cannot be bool`}`,
      });
      return z.NEVER;
    }
    if (p.address + widthOf(type) - 1 > MAX_ADDRESS) {
      ctx.addIssue({
        code: 'custom',
        path: ['address'],
        message: `point '${p.name}': a ${type} at ${p.address} runs past address ${MAX_ADDRESS}`,
      });
      return z.NEVER;
    }
    return { ...p, type };
  });
export type PointConfig = z.output<typeof PointSchema>;

/** One Modbus TCP device (or one unit id behind a gateway) and its register map. */
export const DeviceSchema = z
  .object({
    /** Stable id: the subject token raw.v1.samples.modbus.<id> and the point ids' middle part. */
    id: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only'),
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).default(502),
    /** Unit id (slave id); 255 or 0 for a device that ignores it, the device's id behind a gateway. */
    unitId: z.number().int().min(0).max(255).default(1),
    pollIntervalMs: z.number().int().min(50).default(1000),
    /** Connect and per-request timeout. */
    timeoutMs: z.number().int().min(10).default(1000),
    /** Longest wait between attempts while the device is unreachable. */
    maxBackoffMs: z.number().int().min(50).default(30_000),
    /** Overrides the worker's maxGap for this device (0 for devices that reject reads across holes). */
    maxGap: z.number().int().min(0).optional(),
    /** Overrides the worker's maxBlock for this device. */
    maxBlock: z.number().int().min(4).max(MAX_REGISTERS_PER_READ).optional(),
    points: z.array(PointSchema).min(1),
  })
  .superRefine((d, ctx) => {
    const seen = new Set<string>();
    for (const [i, p] of d.points.entries()) {
      if (seen.has(p.name))
        ctx.addIssue({ code: 'custom', path: ['points', i, 'name'], message: `duplicate point '${p.name}'` });
      seen.add(p.name);
    }
  });
export type DeviceConfig = z.output<typeof DeviceSchema>;

const DevicesSchema = z.array(DeviceSchema).superRefine((devices, ctx) => {
  const seen = new Set<string>();
  for (const [i, d] of devices.entries()) {
    // subject tokens are lower case: PDU-1 and pdu-1 would share a subject
    const key = d.id.toLowerCase();
    if (seen.has(key))
      ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `duplicate device id '${d.id}'` });
    seen.add(key);
  }
});

export const IngestModbusConfigSchema = RuntimeConfigSchema.extend({
  /** Devices to poll: an array in the config file, a JSON array in BUSWAY_DEVICES. @default [] */
  devices: z.preprocess(fromJson('array of devices'), DevicesSchema).default([]),
  /** Unused registers (or bits) a block read may span to join two points into one request. @default 8 */
  maxGap: z.coerce.number().int().min(0).default(8),
  /** Most registers one block read asks for (the protocol allows 125). @default 120 */
  maxBlock: z.coerce.number().int().min(4).max(MAX_REGISTERS_PER_READ).default(120),
});
export type IngestModbusConfig = z.output<typeof IngestModbusConfigSchema>;
