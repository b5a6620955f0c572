/** How dcgm-exporter declares a field: its Prometheus type, its HELP text and how it prints the value. */
export interface DcgmFieldDef {
  type: 'gauge' | 'counter';
  help: string;
  /** int64 fields print as integers (`%d`), double fields with six decimals (`%f`), as dcgm-exporter does. */
  format: 'int' | 'float';
}

/** The fields the simulated exporter serves, with dcgm-exporter's default-counters.csv types and help texts. */
export const DCGM_FIELDS: Record<string, DcgmFieldDef> = {
  DCGM_FI_DEV_SM_CLOCK: { type: 'gauge', help: 'SM clock frequency (in MHz).', format: 'int' },
  DCGM_FI_DEV_MEM_CLOCK: { type: 'gauge', help: 'Memory clock frequency (in MHz).', format: 'int' },
  DCGM_FI_DEV_MEMORY_TEMP: { type: 'gauge', help: 'Memory temperature (in C).', format: 'int' },
  DCGM_FI_DEV_GPU_TEMP: { type: 'gauge', help: 'GPU temperature (in C).', format: 'int' },
  DCGM_FI_DEV_POWER_USAGE: { type: 'gauge', help: 'Power draw (in W).', format: 'float' },
  DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION: {
    type: 'counter',
    help: 'Total energy consumption since boot (in mJ).',
    format: 'int',
  },
  DCGM_FI_DEV_PCIE_REPLAY_COUNTER: { type: 'counter', help: 'Total number of PCIe retries.', format: 'int' },
  DCGM_FI_DEV_GPU_UTIL: { type: 'gauge', help: 'GPU utilization (in %).', format: 'int' },
  DCGM_FI_DEV_MEM_COPY_UTIL: { type: 'gauge', help: 'Memory utilization (in %).', format: 'int' },
  DCGM_FI_DEV_XID_ERRORS: { type: 'gauge', help: 'Value of the last XID error encountered.', format: 'int' },
  DCGM_FI_DEV_FB_FREE: { type: 'gauge', help: 'Framebuffer memory free (in MiB).', format: 'int' },
  DCGM_FI_DEV_FB_USED: { type: 'gauge', help: 'Framebuffer memory used (in MiB).', format: 'int' },
  DCGM_FI_PROF_PIPE_TENSOR_ACTIVE: {
    type: 'gauge',
    help: 'Ratio of cycles the tensor (HMMA) pipe is active.',
    format: 'float',
  },
};
