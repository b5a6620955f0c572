import { msFromTimeNs } from '@busway/proto';
import { Prng } from '@busway/runtime';
import { EngineOptionsSchema, type EngineOptions } from '../config.js';
import { AnomalyEngine } from '../engine.js';
import type { Dataset, Detection, EvalDetector } from './types.js';

/** The worker's engine: every alarm it raises is a detection. */
export function engineDetector(options: Partial<EngineOptions> = {}, name = 'busway'): EvalDetector {
  const opts = EngineOptionsSchema.parse(options);
  return {
    name,
    detect(ds: Dataset): Detection[] {
      const engine = new AnomalyEngine(opts, () => ds.registry);
      const out: Detection[] = [];
      for (const item of ds.items) {
        if ('event' in item) {
          engine.onEvent(item.event);
          continue;
        }
        const r = engine.scoreSample(item.sample);
        if (r?.alarm?.active)
          out.push({ pointId: item.sample.pointId ?? '', tMs: r.alarm.raisedMs, label: r.score.label ?? '' });
      }
      return out;
    },
  };
}

/** Knows the labels: detects every window `delayMs` after it starts. The harness must score it near 100. */
export function oracleDetector(delayMs = 0): EvalDetector {
  return {
    name: 'oracle',
    detect: (ds) =>
      ds.windows.map((w) => ({ pointId: w.pointIds[0] ?? '', tMs: Math.min(w.endMs, w.startMs + delayMs) })),
  };
}

/** Never detects anything: the NAB null detector, 0 by definition. */
export const silentDetector: EvalDetector = { name: 'silent', detect: () => [] };

/** Raises an alarm on a random point at random times, `perHour` on average: must score badly. */
export function randomDetector(perHour: number, seed = 1): EvalDetector {
  return {
    name: 'random',
    detect(ds) {
      const rng = new Prng(seed);
      const points = [...new Set(ds.items.flatMap((i) => ('sample' in i ? [i.sample.pointId ?? ''] : [])))];
      const out: Detection[] = [];
      for (
        let t = ds.startMs + rng.exponential(3_600_000 / perHour);
        t < ds.endMs;
        t += rng.exponential(3_600_000 / perHour)
      )
        out.push({ pointId: rng.pick(points), tMs: t });
      return out;
    },
  };
}

/** Detects every window late, just after it has ended (where no other window is open): worth nothing. */
export const lateDetector: EvalDetector = {
  name: 'late',
  detect: (ds) =>
    ds.windows.flatMap((w) => {
      const pointId = w.pointIds[0] ?? '';
      const t = w.endMs + 1;
      const open = ds.windows.some((x) => x.pointIds.includes(pointId) && t >= x.startMs && t <= x.endMs);
      return open ? [] : [{ pointId, tMs: t }];
    }),
};

/** Time of a stream item, ms. */
export function itemTimeMs(item: Dataset['items'][number]): number {
  return msFromTimeNs('event' in item ? item.event.eventTimeNs : item.sample.eventTimeNs);
}
