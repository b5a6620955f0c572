import { lagStep, Physics } from '../physics.js';
import type { Plant } from '../plant.js';
import type { Reading } from '../plant-sim.js';
import type { DcgmExporter } from './exporter.js';

/** Time constant of a GPU die following its load: seconds, far faster than the coolant loop. */
const DIE_TAU_MS = 4000;
const IDLE_SM_MHZ = 345;
const BOOST_SM_MHZ = 1980;
const MEM_MHZ = 2619;
const FB_TOTAL_MIB = 81_559;

interface GpuState {
  dieC: number;
  energyMj: number;
  lastMs?: number;
}

/**
 * The plant's GPUs as DCGM sees them: each node's simulated utilization (the `GPU/Utilization` reading the
 * plant publishes) drives its GPUs' utilization, board power (the same law as the node's power draw), die and
 * HBM temperature (a first-order lag above the coolant supply), SM clock, memory in use and the energy
 * counter, written into a DcgmExporter. Per-GPU offsets are fixed by index, so the fleet stays deterministic.
 */
export class SimGpuFleet {
  private readonly state = new Map<string, GpuState>();
  private readonly gpusPerNode: number;
  private readonly nodes = new Set<string>();

  constructor(
    plant: Plant,
    private readonly exporter: DcgmExporter,
  ) {
    this.gpusPerNode = plant.gpusPerNode;
    for (const row of plant.rows)
      for (const rack of row.racks)
        for (const node of rack.nodes) {
          this.nodes.add(node);
          for (let i = 0; i < this.gpusPerNode; i++) this.write(node, i, Physics.idleUtilization, 0);
        }
  }

  /** Takes the readings of one plant step; the nodes' GPU utilization moves their GPUs. */
  observe(readings: readonly Reading[]): void {
    for (const r of readings) {
      if (r.name !== 'GPU/Utilization' || !this.nodes.has(r.device.id)) continue;
      for (let i = 0; i < this.gpusPerNode; i++)
        this.write(r.device.id, i, Math.min(1, Math.max(0, r.value / 100)), r.timeMs);
    }
  }

  private write(node: string, index: number, utilization: number, timeMs: number): void {
    const key = `${node}/${index}`;
    const s = this.state.get(key) ?? { dieC: Physics.supplyTempC + 8, energyMj: 0 };
    const u = Math.min(1, Math.max(0, utilization + ((index % 3) - 1) * 0.004));
    const powerW = Physics.gpuFullKw * 1000 * u + 25 + index * 0.7;
    const targetC = Physics.supplyTempC + 8 + 0.06 * powerW + (index % 4) * 0.4;
    const dtMs = s.lastMs === undefined ? 0 : Math.max(0, timeMs - s.lastMs);
    s.dieC = dtMs > 0 ? lagStep(s.dieC, targetC, dtMs, DIE_TAU_MS) : s.dieC;
    s.energyMj += powerW * dtMs; // W × ms = mJ
    s.lastMs = timeMs;
    this.state.set(key, s);
    const set = (field: string, v: number) => this.exporter.set(node, index, field, v);
    set('DCGM_FI_DEV_GPU_UTIL', u * 100);
    set('DCGM_FI_DEV_MEM_COPY_UTIL', u * 55);
    set('DCGM_FI_PROF_PIPE_TENSOR_ACTIVE', u * 0.62);
    set('DCGM_FI_DEV_POWER_USAGE', powerW);
    set('DCGM_FI_DEV_GPU_TEMP', s.dieC);
    set('DCGM_FI_DEV_MEMORY_TEMP', s.dieC + 6);
    set('DCGM_FI_DEV_SM_CLOCK', u > 0.2 ? BOOST_SM_MHZ : IDLE_SM_MHZ);
    set('DCGM_FI_DEV_MEM_CLOCK', MEM_MHZ);
    set('DCGM_FI_DEV_FB_USED', Math.round(FB_TOTAL_MIB * (0.01 + 0.9 * u)));
    set('DCGM_FI_DEV_FB_FREE', FB_TOTAL_MIB - Math.round(FB_TOTAL_MIB * (0.01 + 0.9 * u)));
    set('DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION', Math.round(s.energyMj));
    set('DCGM_FI_DEV_XID_ERRORS', 0);
    set('DCGM_FI_DEV_PCIE_REPLAY_COUNTER', 0);
  }
}
