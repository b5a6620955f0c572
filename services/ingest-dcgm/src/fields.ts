import { ownValue } from '@busway/runtime';
import { z } from 'zod';

/** Where a DCGM field lands in the taxonomy, in which unit the exporter reports it, and how it counts. */
export interface FieldMapping {
  /** Taxonomy metric name (its first token is a quantity kind). */
  metric: string;
  /** UCUM unit of the field, unless the HELP text says `(in <unit>)`; '' for states and counts. */
  unit: string;
  /** A gauge is a level; a counter only grows (until the GPU or driver resets it). */
  kind: 'gauge' | 'counter';
  /** Codes and counts are integers; measurements are doubles. @default double */
  value?: 'double' | 'int';
}

export const FieldMappingSchema = z.object({
  metric: z.string().regex(/^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/, 'dotted lower-case taxonomy name'),
  unit: z.string().default(''),
  kind: z.enum(['gauge', 'counter']).default('gauge'),
  value: z.enum(['double', 'int']).default('double'),
});

/**
 * dcgm-exporter's fields (default-counters.csv and the DCP profiling fields) and their taxonomy names. Fields
 * not listed are left out (counted as `unmapped-field`), unless the `fields` setting adds them.
 */
export const DCGM_FIELD_MAP: Record<string, FieldMapping> = {
  DCGM_FI_DEV_POWER_USAGE: { metric: 'power.gpu', unit: 'W', kind: 'gauge' },
  DCGM_FI_DEV_POWER_USAGE_INSTANT: { metric: 'power.gpu.instant', unit: 'W', kind: 'gauge' },
  DCGM_FI_DEV_POWER_MGMT_LIMIT: { metric: 'power.cap', unit: 'W', kind: 'gauge' },
  DCGM_FI_DEV_ENFORCED_POWER_LIMIT: { metric: 'power.cap.enforced', unit: 'W', kind: 'gauge' },
  DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION: { metric: 'energy.gpu', unit: 'mJ', kind: 'counter', value: 'int' },
  DCGM_FI_DEV_GPU_TEMP: { metric: 'temperature.gpu.die', unit: 'Cel', kind: 'gauge' },
  DCGM_FI_DEV_MEMORY_TEMP: { metric: 'temperature.gpu.memory', unit: 'Cel', kind: 'gauge' },
  DCGM_FI_DEV_GPU_UTIL: { metric: 'utilization.gpu', unit: '%', kind: 'gauge' },
  DCGM_FI_DEV_MEM_COPY_UTIL: { metric: 'utilization.gpu.memory-copy', unit: '%', kind: 'gauge' },
  DCGM_FI_DEV_ENC_UTIL: { metric: 'utilization.gpu.encoder', unit: '%', kind: 'gauge' },
  DCGM_FI_DEV_DEC_UTIL: { metric: 'utilization.gpu.decoder', unit: '%', kind: 'gauge' },
  DCGM_FI_PROF_GR_ENGINE_ACTIVE: { metric: 'utilization.gpu.graphics-engine', unit: '1', kind: 'gauge' },
  DCGM_FI_PROF_SM_ACTIVE: { metric: 'utilization.gpu.sm', unit: '1', kind: 'gauge' },
  DCGM_FI_PROF_SM_OCCUPANCY: { metric: 'utilization.gpu.sm-occupancy', unit: '1', kind: 'gauge' },
  DCGM_FI_PROF_PIPE_TENSOR_ACTIVE: { metric: 'utilization.gpu.tensor', unit: '1', kind: 'gauge' },
  DCGM_FI_PROF_DRAM_ACTIVE: { metric: 'utilization.gpu.dram', unit: '1', kind: 'gauge' },
  DCGM_FI_DEV_SM_CLOCK: { metric: 'frequency.gpu.sm', unit: 'MHz', kind: 'gauge' },
  DCGM_FI_DEV_MEM_CLOCK: { metric: 'frequency.gpu.memory', unit: 'MHz', kind: 'gauge' },
  DCGM_FI_DEV_FB_USED: { metric: 'data.gpu.memory.used', unit: 'MiBy', kind: 'gauge' },
  DCGM_FI_DEV_FB_FREE: { metric: 'data.gpu.memory.free', unit: 'MiBy', kind: 'gauge' },
  DCGM_FI_DEV_PCIE_TX_THROUGHPUT: { metric: 'data.gpu.pcie.tx', unit: 'kBy', kind: 'counter', value: 'int' },
  DCGM_FI_DEV_PCIE_RX_THROUGHPUT: { metric: 'data.gpu.pcie.rx', unit: 'kBy', kind: 'counter', value: 'int' },
  DCGM_FI_DEV_XID_ERRORS: { metric: 'state.gpu.xid', unit: '', kind: 'gauge', value: 'int' },
  DCGM_FI_DEV_ROW_REMAP_FAILURE: {
    metric: 'state.gpu.row-remap-failure',
    unit: '',
    kind: 'gauge',
    value: 'int',
  },
  DCGM_FI_DEV_PCIE_REPLAY_COUNTER: {
    metric: 'count.gpu.pcie-replay',
    unit: '',
    kind: 'counter',
    value: 'int',
  },
  DCGM_FI_DEV_ECC_SBE_VOL_TOTAL: {
    metric: 'count.gpu.ecc.sbe-volatile',
    unit: '',
    kind: 'counter',
    value: 'int',
  },
  DCGM_FI_DEV_ECC_DBE_VOL_TOTAL: {
    metric: 'count.gpu.ecc.dbe-volatile',
    unit: '',
    kind: 'counter',
    value: 'int',
  },
  DCGM_FI_DEV_ECC_SBE_AGG_TOTAL: {
    metric: 'count.gpu.ecc.sbe-aggregate',
    unit: '',
    kind: 'counter',
    value: 'int',
  },
  DCGM_FI_DEV_ECC_DBE_AGG_TOTAL: {
    metric: 'count.gpu.ecc.dbe-aggregate',
    unit: '',
    kind: 'counter',
    value: 'int',
  },
  DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS: {
    metric: 'count.gpu.remapped-rows.uncorrectable',
    unit: '',
    kind: 'counter',
    value: 'int',
  },
  DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS: {
    metric: 'count.gpu.remapped-rows.correctable',
    unit: '',
    kind: 'counter',
    value: 'int',
  },
};

/** Unit spellings of dcgm-exporter's HELP texts (`Power draw (in W).`) and their UCUM codes. */
const HELP_UNITS: Record<string, string> = {
  C: 'Cel',
  W: 'W',
  mW: 'mW',
  J: 'J',
  mJ: 'mJ',
  MHz: 'MHz',
  '%': '%',
  MiB: 'MiBy',
  MB: 'MBy',
  KB: 'kBy',
  us: 'us',
  ms: 'ms',
  s: 's',
  V: 'V',
  A: 'A',
};

/**
 * The unit a HELP text declares in dcgm-exporter's `(in <unit>)` form: its UCUM code, undefined when the text
 * declares none, null when it declares one this bridge cannot read.
 */
export function helpUnitOf(help: string | undefined): string | null | undefined {
  const m = help === undefined ? null : /\(in ([^)]*)\)/.exec(help);
  if (!m) return undefined;
  return ownValue(HELP_UNITS, (m[1] ?? '').trim()) ?? null;
}
