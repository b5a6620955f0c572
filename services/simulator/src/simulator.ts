import { busway, EventTypes, Subjects, timeNsFromMs, nowNs } from '@busway/proto';
import { publishFabric, type RunningWorker, type WorkerRuntime } from '@busway/runtime';
import { context } from '@opentelemetry/api';
import type { SimulatorConfig } from './config.js';
import { GroundTruthLog } from './ground-truth.js';
import { PlantSim, TICK_MS, type JobEventOut, type Reading } from './plant-sim.js';
import { SparkplugEdgeNode } from './sparkplug-edge.js';
import { simulatedVtnOptions, startSimulatedVtn } from './vtn/curtailment.js';
import { RackBmcs } from './redfish/rack-bmcs.js';
import { startSimItApis } from './scheduler/it-apis.js';

const PHASE = {
  started: busway.v1.JobPhase.JOB_PHASE_STARTED,
  ended: busway.v1.JobPhase.JOB_PHASE_ENDED,
} as const;

/** The scheduler's job event as a fabric EventBatch (stands in for a Slurm or Kubernetes bridge). */
export function jobEventBatch(e: JobEventOut): Uint8Array {
  return busway.v1.EventBatch.encode({
    events: [
      {
        id: `${e.jobId}:${e.phase}`,
        kind: busway.v1.EventKind.EVENT_KIND_JOB,
        eventTimeNs: timeNsFromMs(e.timeMs),
        clockSource: busway.v1.ClockSource.CLOCK_SOURCE_NTP,
        ingestTimeNs: nowNs(),
        source: { protocol: 'sim-scheduler', sourceId: 'sim', address: 'scheduler' },
        job: { jobId: e.jobId, phase: PHASE[e.phase], nodes: e.nodes, gpus: e.gpus, scheduler: 'sim' },
      },
    ],
  }).finish();
}

/** Runs the plant in real time: every tick, publish what became due over Sparkplug and the scheduler's events. */
export async function startSimulator(rt: WorkerRuntime, config: SimulatorConfig): Promise<RunningWorker> {
  const sim = new PlantSim(config, Math.floor(Date.now() / TICK_MS) * TICK_MS);
  const truth = new GroundTruthLog(config.groundTruthPath);
  const bdSeq = Math.floor(Date.now() / 1000) % 256;
  const edges = new Map<string, SparkplugEdgeNode>();
  for (const row of sim.plant.rows) {
    const devices = sim.plant.devices.filter((d) => d.edge === row.edge);
    edges.set(row.edge, new SparkplugEdgeNode(config.mqttUrl, sim.plant.group, row.edge, devices, bdSeq));
  }
  for (const edge of edges.values()) await edge.connect();
  const vtn = config.vtnPort > 0 ? await startSimulatedVtn(simulatedVtnOptions(config), rt.log) : undefined;
  const bmcs = config.redfishPort > 0 ? await RackBmcs.start(sim.plant, config, rt.log) : undefined;
  const it = await startSimItApis(sim.plant, config, rt.log);
  rt.log.info(
    { devices: sim.plant.devices.length, edges: edges.size, seed: config.seed },
    'plant simulator publishing',
  );

  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  const publishReadings = async (readings: Reading[]) => {
    const byDevice = new Map<string, Reading[]>();
    for (const r of readings) byDevice.set(r.device.id, [...(byDevice.get(r.device.id) ?? []), r]);
    let n = 0;
    for (const rs of byDevice.values()) {
      const device = rs[0]?.device;
      if (device) n += (await edges.get(device.edge)?.publish(device, rs)) ?? 0;
    }
    rt.metrics.samples.inc({ stage: 'simulate', direction: 'out' }, n);
  };
  const tick = async () => {
    const out = sim.advanceTo(Date.now());
    truth.write(out.truth);
    for (const e of it.directJobEvents ? out.events : []) {
      const id = `sim-scheduler:${e.jobId}:${e.phase}`;
      await publishFabric(
        rt.publisher,
        Subjects.rawEvents('scheduler'),
        jobEventBatch(e),
        { type: EventTypes.EventBatch, source: '/busway/simulator/scheduler', id },
        context.active(),
      );
    }
    bmcs?.observe(out.readings, config.thermalIntervalMs);
    it.observe(out);
    await publishReadings(out.readings);
  };
  const timer = setInterval(() => {
    if (stopped) return;
    running = running.then(tick).catch((err: unknown) => rt.log.error({ err }, 'simulator tick failed'));
  }, TICK_MS);

  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
      for (const edge of edges.values()) await edge.close();
      await vtn?.stop();
      await bmcs?.close();
      await it.close();
    },
  };
}
