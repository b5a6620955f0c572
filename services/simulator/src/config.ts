import { z } from 'zod';
import { RuntimeConfigSchema } from '@busway/runtime';

/** The simulated slice of an AI factory and how it publishes. */
export const SimulatorConfigSchema = RuntimeConfigSchema.extend({
  /** MQTT broker the edge nodes publish Sparkplug B to [MQTT_URL]. @default mqtt://127.0.0.1:1883 */
  mqttUrl: z.string().min(1).default('mqtt://127.0.0.1:1883'),
  /** Seed of every random choice: same seed and start time, same plant history. @default 1 */
  seed: z.coerce.number().int().default(1),
  /** Hall id. @default h1 */
  hall: z
    .string()
    .regex(/^[a-z0-9-]+$/)
    .default('h1'),
  /** Rows of racks; each row has one busway, one CDU and one edge gateway. @default 2 */
  rows: z.coerce.number().int().min(1).max(50).default(2),
  /** Racks per row. @default 4 */
  racksPerRow: z.coerce.number().int().min(1).max(64).default(4),
  /** GPU nodes per rack. @default 4 */
  nodesPerRack: z.coerce.number().int().min(1).max(32).default(4),
  /** GPUs per node. @default 8 */
  gpusPerNode: z.coerce.number().int().min(1).max(16).default(8),
  /** Sampling period of electrical points (PDU, busway). @default 200 */
  powerIntervalMs: z.coerce.number().int().min(100).default(200),
  /** Sampling period of thermal points and node telemetry. @default 1000 */
  thermalIntervalMs: z.coerce.number().int().min(100).default(1000),
  /** Mean time between job starts (exponential). @default 8000 */
  jobMeanIntervalMs: z.coerce.number().int().min(500).default(8000),
  /** Mean job duration (exponential, at least 5 s). @default 20000 */
  jobMeanDurationMs: z.coerce.number().int().min(1000).default(20000),
  /** Mean time between injected faults (spike, stuck, slow drift, pump degradation, fan failure, flow blockage; one at a time per device); 0 disables faults. @default 30000 */
  faultMeanIntervalMs: z.coerce.number().int().min(0).default(30000),
  /** JSONL file for the ground truth (jobs, faults); none when unset. @default none */
  groundTruthPath: z.string().optional(),
  /** Sparkplug group id. @default <site>-<hall> */
  sparkplugGroup: z.string().optional(),
  /** Port of the simulated OpenADR 3.1 VTN (a grid operator issuing a curtailment and prices a few seconds in); 0: none. @default 0 */
  vtnPort: z.coerce.number().int().min(0).max(65535).default(0),
  /** OAuth2 client id the simulated VTN accepts from the VEN. @default busway-ven */
  vtnClientId: z.string().min(1).default('busway-ven'),
  /** OAuth2 client secret the simulated VTN accepts from the VEN. @default busway-ven-secret */
  vtnClientSecret: z.string().min(1).default('busway-ven-secret'),
  /** First port of the simulated rack BMCs (Redfish, one per rack on consecutive ports); 0: none. @default 0 */
  redfishPort: z.coerce.number().int().min(0).max(65000).default(0),
  /** Port of the simulated dcgm-exporter (every GPU at /metrics, one node's at /<node>/metrics); 0: none. @default 0 */
  dcgmPort: z.coerce.number().int().min(0).max(65535).default(0),
  /** Port of the simulated slurmrestd (the plant's jobs at /slurm/v0.0.41/jobs/); 0: none. @default 0 */
  slurmPort: z.coerce.number().int().min(0).max(65535).default(0),
  /** Port of the simulated Kubernetes API server (the plant's jobs as pods, list and watch); 0: none. @default 0 */
  k8sPort: z.coerce.number().int().min(0).max(65535).default(0),
  /** Token the simulated slurmrestd (user busway) and Kubernetes API (Bearer) accept. @default busway-sim-token */
  schedulerToken: z.string().min(1).default('busway-sim-token'),
  /** Job events straight to raw.v1.events.scheduler: auto = only while no scheduler API is served. @default auto */
  directJobEvents: z.enum(['auto', 'on', 'off']).default('auto'),
  /** Address the simulated DCGM, Slurm and Kubernetes endpoints listen on. @default 127.0.0.1 */
  itBindAddress: z.string().min(1).default('127.0.0.1'),
});
export type SimulatorConfig = z.infer<typeof SimulatorConfigSchema>;

/** The Sparkplug group id the plant publishes under. */
export function groupOf(config: SimulatorConfig): string {
  return config.sparkplugGroup ?? `${config.site}-${config.hall}`;
}
