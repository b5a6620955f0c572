// The plant simulator: a slice of an AI factory publishing Sparkplug B, with a scheduler and a ground truth.
import type { WorkerModule } from '@busway/runtime';
import { SimulatorConfigSchema } from './config.js';
import { startSimulator } from './simulator.js';

export { SimulatorConfigSchema, groupOf } from './config.js';
export type { SimulatorConfig } from './config.js';
export { buildPlant, buildSiteModel, pointIdOf, DataType } from './plant.js';
export type { Plant, DeviceDef, RackDef, RowDef, PointDef } from './plant.js';
export { PlantSim, TICK_MS } from './plant-sim.js';
export type { Reading, JobEventOut, TruthEntry, StepOutput } from './plant-sim.js';
export { Physics, coolantRiseC, nodePowerKw } from './physics.js';
export { SparkplugEdgeNode } from './sparkplug-edge.js';
export { GroundTruthLog, readGroundTruth } from './ground-truth.js';
export { startSimulator, jobEventBatch } from './simulator.js';
export { Vtn } from './vtn/vtn.js';
export type { VtnOptions, VtnRequest, VtnLog } from './vtn/vtn.js';
export type { VtnClient, VtnRole } from './vtn/auth.js';
export type { Delivery, NotifierOptions } from './vtn/notifier.js';
export type { OadrObject } from './vtn/objects.js';
export { OpenAdrSpec, openAdrSpec } from './vtn/spec.js';
export { startSimulatedVtn, curtailmentRequests, fullLoadKw } from './vtn/curtailment.js';
export type { CurtailmentPlan, SimulatedVtn } from './vtn/curtailment.js';
export { RedfishService } from './redfish/service.js';
export type { RedfishServiceOptions, RedfishFeatures } from './redfish/service.js';
export type { ChassisState, RedfishQuirks } from './redfish/model.js';
export type { PushAttempt } from './redfish/events.js';
export { formatRedfishTime } from './redfish/model.js';
export { parseEventFilter } from './redfish/filter.js';
export { RackBmcs, redfishEndpointsOf, SIM_REDFISH_USER, SIM_REDFISH_PASSWORD } from './redfish/rack-bmcs.js';
export { redfishPointsOf, redfishPowerMetric, redfishGpuTempMetric } from './redfish/points.js';
export { DcgmExporter } from './dcgm/exporter.js';
export { gpuUuidOf, gpuAssetsOf } from './dcgm/gpu-assets.js';
export type { DcgmGpu, DcgmExporterOptions } from './dcgm/exporter.js';
export { DCGM_FIELDS } from './dcgm/fields.js';
export type { DcgmFieldDef } from './dcgm/fields.js';
export { SimGpuFleet } from './dcgm/sim-gpus.js';
export { SlurmRestServer } from './scheduler/slurm-server.js';
export type { SlurmJob, SlurmState, SlurmRestServerOptions } from './scheduler/slurm-server.js';
export { KubeApiServer } from './scheduler/kube-server.js';
export type { KubeApiServerOptions } from './scheduler/kube-server.js';
export { newPod, bindPod, runPod, finishPod, k8sTime } from './scheduler/kube-pods.js';
export type { Pod, PodInput } from './scheduler/kube-pods.js';
export { compressHostlist } from './scheduler/hostlist.js';
export { SimSchedulerApis, SIM_NAMESPACE, simPodName } from './scheduler/sim-scheduler.js';
export { startSimItApis, SIM_SLURM_USER } from './scheduler/it-apis.js';
export type { SimItApis } from './scheduler/it-apis.js';

export const simulatorModule: WorkerModule<typeof SimulatorConfigSchema> = {
  name: 'simulator',
  stage: 'simulate',
  description:
    'simulated AI-factory hall: racks, PDUs, CDUs, sensors, a job scheduler (Sparkplug B over MQTT)',
  configSchema: SimulatorConfigSchema,
  consumers: () => [],
  start: startSimulator,
};
