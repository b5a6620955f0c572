import { Prng, type Logger } from '@busway/runtime';
import type { SimulatorConfig } from '../config.js';
import type { Plant } from '../plant.js';
import type { Reading } from '../plant-sim.js';
import type { ChassisState } from './model.js';
import { racksOf } from './points.js';
import { RedfishService } from './service.js';

/** The account every simulated rack BMC accepts. */
export const SIM_REDFISH_USER = 'admin';
export const SIM_REDFISH_PASSWORD = 'redfish';

/** GPU die temperature model: above the coolant supply by an idle rise plus a load rise, first-order lag. */
const GPU_IDLE_RISE_C = 8;
const GPU_LOAD_RISE_C = 45;
const GPU_TAU_MS = 4000;

/** The ingest-redfish endpoints that read the simulated rack BMCs (for the demo's config). */
export function redfishEndpointsOf(config: SimulatorConfig, plant: Plant, host = '127.0.0.1') {
  return racksOf(plant).map((rack, i) => ({
    id: rack.id,
    url: `http://${host}:${config.redfishPort + i}`,
    username: SIM_REDFISH_USER,
    password: SIM_REDFISH_PASSWORD,
  }));
}

interface NodeState {
  rack: string;
  row: string;
  kw: number;
  utilization: number;
  gpuC: number[];
}

/**
 * One Redfish service per rack (a rack manager BMC), on consecutive ports from `redfishPort`, with one chassis per
 * node: its input power and its GPUs' die temperatures, taken from the plant's readings. Each thermal tick every
 * rack emits a MetricReport (SSE and push subscribers get it; polling clients read it and Power/Thermal).
 */
export class RackBmcs {
  private readonly nodes = new Map<string, NodeState>();
  private readonly supplyC = new Map<string, number>();
  private readonly rng: Prng;
  private nowNs = BigInt(Date.now()) * 1_000_000n;

  private constructor(
    private readonly plant: Plant,
    readonly services: Map<string, RedfishService>,
    seed: number,
  ) {
    this.rng = new Prng(seed ^ 0x5eed);
    for (const row of plant.rows)
      for (const rack of row.racks)
        for (const node of rack.nodes)
          this.nodes.set(node, {
            rack: rack.id,
            row: row.id,
            kw: 0,
            utilization: 0,
            gpuC: Array.from({ length: plant.gpusPerNode }, () => 30 + GPU_IDLE_RISE_C),
          });
  }

  static async start(plant: Plant, config: SimulatorConfig, log: Logger): Promise<RackBmcs> {
    const services = new Map<string, RedfishService>();
    const bmcs = new RackBmcs(plant, services, config.seed);
    for (const [i, rack] of racksOf(plant).entries()) {
      const service = await RedfishService.start({
        port: config.redfishPort === 0 ? 0 : config.redfishPort + i, // 0: any free port (tests)
        users: { [SIM_REDFISH_USER]: SIM_REDFISH_PASSWORD },
        reportDefinitions: ['NodePowerThermal'],
        clockNs: () => bmcs.nowNs,
      });
      services.set(rack.id, service);
      for (const node of rack.nodes) service.setChassis(bmcs.chassisOf(node));
    }
    log.info(
      { racks: services.size, ports: `${config.redfishPort}-${config.redfishPort + services.size - 1}` },
      'simulated rack BMCs serving Redfish',
    );
    return bmcs;
  }

  /** Takes a tick's readings; when node telemetry is among them, updates every chassis and emits the reports. */
  observe(readings: Reading[], intervalMs: number): void {
    let thermal = false;
    for (const r of readings) {
      if (r.name === 'Coolant/Supply Temp') this.supplyC.set(r.device.id, r.value);
      const node = this.nodes.get(r.device.id);
      if (!node) continue;
      if (r.name === 'Power/Input') node.kw = r.value;
      if (r.name === 'GPU/Utilization') node.utilization = r.value / 100;
      thermal = true;
      this.nowNs = BigInt(r.timeMs) * 1_000_000n;
    }
    if (!thermal) return;
    for (const [id, node] of this.nodes) {
      const supply = this.supplyC.get(this.plant.rows.find((row) => row.id === node.row)?.cdu ?? '') ?? 30;
      const k = 1 - Math.exp(-intervalMs / GPU_TAU_MS);
      node.gpuC = node.gpuC.map((c, g) => {
        const target = supply + GPU_IDLE_RISE_C + GPU_LOAD_RISE_C * node.utilization + (g % 4) * 0.6;
        return c + (target - c) * k;
      });
      this.services.get(node.rack)?.setChassis(this.chassisOf(id));
    }
    for (const service of this.services.values()) service.emitReports();
  }

  async close(): Promise<void> {
    await Promise.all([...this.services.values()].map((s) => s.close()));
  }

  private chassisOf(id: string): ChassisState {
    const node = this.nodes.get(id);
    const noise = () => this.rng.gaussian() * 0.15;
    return {
      id,
      powerW: node ? Math.round(node.kw * 1000) : null,
      temperatures: (node?.gpuC ?? []).map((c, g) => ({
        name: `GPU${g} Temp`,
        celsius: Math.round((c + noise()) * 10) / 10,
      })),
      fans: [],
    };
  }
}
