import type { Logger } from '@busway/runtime';
import type { SimulatorConfig } from '../config.js';
import { DcgmExporter } from '../dcgm/exporter.js';
import { SimGpuFleet } from '../dcgm/sim-gpus.js';
import type { Plant } from '../plant.js';
import type { StepOutput } from '../plant-sim.js';
import { KubeApiServer } from './kube-server.js';
import { SimSchedulerApis } from './sim-scheduler.js';
import { SlurmRestServer } from './slurm-server.js';

/** The user the simulated slurmrestd accepts in X-SLURM-USER-NAME. */
export const SIM_SLURM_USER = 'busway';

/** The IT side of the simulated plant: its GPUs behind a dcgm-exporter, its jobs behind slurmrestd and a Kubernetes API. */
export interface SimItApis {
  /** Publish job events straight to raw.v1.events.scheduler (no scheduler bridge in between). */
  directJobEvents: boolean;
  observe(out: StepOutput): void;
  close(): Promise<void>;
}

/**
 * The first Slurm job id of a run. A real slurmctld never reuses a job id (it numbers on across restarts), so a
 * run does not either: numbered from its start in tenths of a second (within Slurm's 67M, again after 69 days),
 * and making fewer than ten jobs a second, it takes ids after the last run's. The scheduler bridge's event ids
 * hold them: repeated within the duplicate window, JetStream would drop the new run's job events.
 */
export const firstSlurmIdOf = (nowMs: number) => 1 + (Math.floor(nowMs / 100) % 60_000_000);

/**
 * Starts the endpoints whose ports are set (`dcgmPort`, `slurmPort`, `k8sPort`). The direct job events stay on
 * (`directJobEvents: auto`) only while no scheduler API is served: with one, the scheduler bridge publishes the
 * jobs, and both at once would report every job twice.
 */
export async function startSimItApis(plant: Plant, config: SimulatorConfig, log: Logger): Promise<SimItApis> {
  const host = config.itBindAddress;
  const exporter =
    config.dcgmPort > 0 ? await DcgmExporter.start({ port: config.dcgmPort, host }) : undefined;
  const gpus = exporter ? new SimGpuFleet(plant, exporter) : undefined;
  const token = config.schedulerToken;
  const slurm =
    config.slurmPort > 0
      ? await SlurmRestServer.start({
          port: config.slurmPort,
          host,
          user: SIM_SLURM_USER,
          token,
          cluster: plant.site,
        })
      : undefined;
  const kube =
    config.k8sPort > 0 ? await KubeApiServer.start({ port: config.k8sPort, host, token }) : undefined;
  const jobs =
    slurm || kube
      ? new SimSchedulerApis(plant.gpusPerNode, slurm, kube, firstSlurmIdOf(Date.now()))
      : undefined;
  const directJobEvents = config.directJobEvents === 'auto' ? !jobs : config.directJobEvents === 'on';
  if (exporter || jobs)
    log.info(
      { dcgm: exporter?.url, slurm: slurm?.url, kubernetes: kube?.url, directJobEvents },
      'simulated IT endpoints serving',
    );
  return {
    directJobEvents,
    observe(out) {
      gpus?.observe(out.readings);
      jobs?.observe(out.events);
    },
    async close() {
      await exporter?.close();
      await slurm?.close();
      await kube?.close();
    },
  };
}
