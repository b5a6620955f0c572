import { busway, timeNsFromMs } from '@busway/proto';
import { parseSiteModel, Registry } from '@busway/registry';
import {
  buildPlant,
  buildSiteModel,
  PlantSim,
  pointIdOf,
  SimulatorConfigSchema,
  type Reading,
  type TruthEntry,
} from '@busway/simulator';
import type { Dataset, LabelledWindow, StreamItem } from './types.js';

/** Source units of the simulated points to the canonical ones the normalizer would give. */
const TO_CANONICAL: Record<string, (v: number) => number> = {
  kW: (v) => v * 1000,
  degF: (v) => ((v - 32) * 5) / 9,
};

export interface SimStreamOptions {
  seed: number;
  durationMs: number;
  /** Mean time between injected faults. @default 120000 */
  faultMeanIntervalMs?: number;
  /** Recovery after a fault's end that still belongs to its window (thermal lags). @default 60000 */
  graceMs?: number;
  /** Not scored at the start: the detectors learn. @default 300000 */
  probationMs?: number;
  startMs?: number;
}

/**
 * The simulator advanced offline (no wall clock): its readings as the normalizer would hand them on
 * (canonical units, UNS paths, taxonomy metrics), its job events with their racks, and its ground truth as
 * labelled windows, one per injected fault over every point the fault affects.
 */
export function simDataset(o: SimStreamOptions): Dataset {
  const startMs = o.startMs ?? 1_800_000_000_000;
  const config = SimulatorConfigSchema.parse({
    site: 'ai1',
    seed: o.seed,
    faultMeanIntervalMs: o.faultMeanIntervalMs ?? 120_000,
  });
  const sim = new PlantSim(config, startMs);
  const out = sim.advanceTo(startMs + o.durationMs);
  const plant = buildPlant(config);
  const model = parseSiteModel(buildSiteModel(config));
  const registry = new Registry(model, 1);
  const items: StreamItem[] = [];
  const pathOf = (asset: string) => registry.pathOf(asset) ?? { site: 'ai1' };
  const events = out.events.map((e) => ({
    t: e.timeMs,
    item: {
      event: {
        id: `${e.jobId}:${e.phase}`,
        kind: busway.v1.EventKind.EVENT_KIND_JOB,
        eventTimeNs: timeNsFromMs(e.timeMs),
        job: {
          jobId: e.jobId,
          phase:
            e.phase === 'started' ? busway.v1.JobPhase.JOB_PHASE_STARTED : busway.v1.JobPhase.JOB_PHASE_ENDED,
          nodes: e.nodes,
          racks: e.racks.map((r) => pathOf(r)),
        },
      },
    } as StreamItem,
  }));
  const samples = out.readings.map((r: Reading) => {
    const def = r.device.points.find((p) => p.name === r.name);
    const convert = TO_CANONICAL[def?.unit ?? ''];
    return {
      t: r.timeMs,
      item: {
        sample: {
          pointId: pointIdOf(plant, r.device, r.name),
          path: pathOf(r.device.id),
          metric: def?.metric ?? r.name,
          doubleValue: convert ? convert(r.value) : r.value,
          eventTimeNs: timeNsFromMs(r.timeMs),
        },
      } as StreamItem,
    };
  });
  // events first at equal times: a job starts before its power answers
  const merged = [...events, ...samples].sort((a, b) => a.t - b.t);
  for (const m of merged) items.push(m.item);
  const grace = o.graceMs ?? 60_000;
  const windows: LabelledWindow[] = out.truth
    .filter((t): t is Extract<TruthEntry, { fault: unknown }> => t.kind === 'fault-start')
    .map((t, i) => ({
      id: `${t.fault}#${i}`,
      type: t.fault,
      pointIds: t.pointIds ?? [t.pointId],
      startMs: t.timeMs,
      endMs: Math.min(startMs + o.durationMs, (t.endMs ?? t.timeMs) + grace),
    }));
  return {
    name: `simulator seed ${o.seed}`,
    source: 'simulator',
    family: 'simulator',
    items,
    windows,
    probationMs: o.probationMs ?? 300_000,
    startMs,
    endMs: startMs + o.durationMs,
    registry,
  };
}
