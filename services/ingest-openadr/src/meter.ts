// The facility's power over a past interval, read back from the normalized samples in NORM.
import type { JetStreamClient } from '@nats-io/jetstream';
import { busway, msFromTimeNs, Streams } from '@busway/proto';
import { TransientError } from '@busway/runtime';

/** One reading of one point: time (ms) and power (W). */
export interface PowerReading {
  tMs: number;
  w: number;
}

/**
 * Time-weighted mean of a step signal over [fromMs, toMs]: each reading holds until the next (the
 * normalizer's report-by-exception drops repeats, so a value is in force until it changes). The reading in
 * force at fromMs is the last one before it, else the first one after it. undefined without readings or
 * without a span.
 */
export function timeWeightedMean(readings: PowerReading[], fromMs: number, toMs: number): number | undefined {
  if (!(toMs > fromMs)) return undefined;
  const sorted = [...readings]
    .filter((r) => Number.isFinite(r.tMs) && Number.isFinite(r.w))
    .sort((a, b) => a.tMs - b.tMs);
  if (sorted.length === 0) return undefined;
  let index = sorted.findIndex((r) => r.tMs > fromMs);
  if (index === -1) index = sorted.length;
  let current = (sorted[index - 1] ?? sorted[0]) as PowerReading;
  let t = fromMs;
  let area = 0;
  for (; index < sorted.length; index++) {
    const next = sorted[index] as PowerReading;
    if (next.tMs >= toMs) break;
    area += current.w * (next.tMs - t);
    t = next.tMs;
    current = next;
  }
  area += current.w * (toMs - t);
  return area / (toMs - fromMs);
}

export interface MeterOptions {
  /** NORM subjects of the meter points (one ordered consumer each). */
  subjects: string[];
  /** Assets summed; empty: every asset on the subjects. */
  assets: string[];
  /** Metric summed, e.g. power.active. */
  metric: string;
  /** How far before the interval to read, for the value in force at its start. */
  lookbackMs: number;
}

export interface FacilityPower {
  /** Sum over points of each point's time-weighted mean power. */
  meanW: number;
  energyWh: number;
  points: number;
  readings: number;
}

const UNIT_TO_W: Record<string, number> = { W: 1, kW: 1000, MW: 1_000_000 };

/**
 * Reads the meter points' samples of an interval back from NORM (retention 24 h by default) with an ordered
 * consumer per subject starting `lookbackMs` before it, and sums each point's time-weighted mean.
 */
export class FacilityMeter {
  constructor(
    private readonly js: JetStreamClient,
    private readonly options: MeterOptions,
  ) {}

  async read(fromMs: number, toMs: number): Promise<FacilityPower | undefined> {
    const byPoint = new Map<string, PowerReading[]>();
    try {
      for (const subject of this.options.subjects) await this.collect(subject, fromMs, toMs, byPoint);
    } catch (err) {
      // NORM missing or JetStream away: the report is tried again later
      throw new TransientError(`meter read failed: ${(err as Error).message}`, { cause: err });
    }
    let meanW = 0;
    let points = 0;
    let readings = 0;
    for (const list of byPoint.values()) {
      const mean = timeWeightedMean(list, fromMs, toMs);
      if (mean === undefined) continue;
      meanW += mean;
      points++;
      readings += list.length;
    }
    if (points === 0) return undefined;
    return { meanW, energyWh: (meanW * (toMs - fromMs)) / 3_600_000, points, readings };
  }

  private async collect(subject: string, fromMs: number, toMs: number, byPoint: Map<string, PowerReading[]>) {
    const consumer = await this.js.consumers.get(Streams.Norm.name, {
      filter_subjects: subject,
      opt_start_time: new Date(fromMs - this.options.lookbackMs).toISOString(),
    });
    try {
      for (;;) {
        let last: { pending: number; timeMs: number } | undefined;
        const batch = await consumer.fetch({ max_messages: 512, expires: 1000 });
        for await (const m of batch) {
          last = { pending: m.info.pending, timeMs: m.info.timestampNanos / 1e6 };
          this.take(m.data, byPoint);
          if (last.pending === 0) break; // caught up: no need to wait for the pull to expire
        }
        // caught up, or past the interval by a margin larger than any normalizer lag worth waiting for
        if (!last || last.pending === 0 || last.timeMs > toMs + 60_000) return;
      }
    } finally {
      await consumer.delete().catch(() => undefined);
    }
  }

  private take(data: Uint8Array, byPoint: Map<string, PowerReading[]>): void {
    let batch: busway.v1.SampleBatch;
    try {
      batch = busway.v1.SampleBatch.decode(data);
    } catch {
      return; // not a sample batch: the normalizer's dead letters say why
    }
    for (const s of batch.samples) {
      if (s.metric !== this.options.metric) continue;
      if (this.options.assets.length > 0 && !this.options.assets.includes(s.path?.asset ?? '')) continue;
      if (s.quality === busway.v1.Quality.QUALITY_BAD || s.quality === busway.v1.Quality.QUALITY_STALE)
        continue;
      const factor = UNIT_TO_W[s.unit ?? ''];
      const raw =
        s.value === 'doubleValue' ? s.doubleValue : s.value === 'intValue' ? Number(s.intValue) : undefined;
      if (factor === undefined || raw === undefined || raw === null) continue;
      const pointId = s.pointId ?? '';
      const list = byPoint.get(pointId) ?? [];
      list.push({ tMs: msFromTimeNs(s.eventTimeNs), w: raw * factor });
      byPoint.set(pointId, list);
    }
  }
}
