import { normalizedNab, scoreDetections, type ScoreReport } from './scoring.js';
import type { Dataset, EvalDetector } from './types.js';

export interface DatasetResult {
  dataset: string;
  source: string;
  family: string;
  samples: number;
  report: ScoreReport;
  /** Detections by the label the detector gave them. */
  labels: Record<string, number>;
}

export interface TypeSummary {
  windows: number;
  detected: number;
  recall: number;
  medianTimeToDetectMs: number | null;
  meanTimeToDetectMs: number | null;
}

export interface Summary {
  detector: string;
  datasets: DatasetResult[];
  /** Per family (simulator, daily-seasonal, ...): the NAB score normalized over the family's datasets. */
  families: Record<
    string,
    {
      nabNormalized: number | null;
      precision: number;
      recall: number;
      falsePositives: number;
      windows: number;
    }
  >;
  /** Per fault or anomaly type, over every dataset. */
  types: Record<string, TypeSummary>;
  overall: {
    nabNormalized: number | null;
    precision: number;
    recall: number;
    f1: number;
    falsePositives: number;
    windows: number;
  };
}

const median = (xs: number[]) => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

function aggregate(results: DatasetResult[]) {
  const raw = results.reduce((s, r) => s + r.report.nabRaw, 0);
  const perfect = results.reduce((s, r) => s + r.report.nabPerfect, 0);
  const nothing = results.reduce((s, r) => s + r.report.nabNull, 0);
  const tp = results.reduce((s, r) => s + r.report.truePositives, 0);
  const fp = results.reduce((s, r) => s + r.report.falsePositives, 0);
  const windows = results.reduce((s, r) => s + r.report.windows, 0);
  const precision = tp + fp === 0 ? (windows === 0 ? 1 : 0) : tp / (tp + fp);
  const recall = windows === 0 ? 1 : tp / windows;
  return {
    nabNormalized: windows === 0 ? null : normalizedNab(raw, perfect, nothing),
    precision,
    recall,
    f1: precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall),
    falsePositives: fp,
    windows,
  };
}

/** Runs a detector over labelled datasets and scores it per dataset, per family, per type and overall. */
export function evaluate(detector: EvalDetector, datasets: Dataset[]): Summary {
  const results: DatasetResult[] = datasets.map((ds) => {
    const detections = detector.detect(ds);
    const labels: Record<string, number> = {};
    for (const d of detections) labels[d.label ?? 'alarm'] = (labels[d.label ?? 'alarm'] ?? 0) + 1;
    return {
      dataset: ds.name,
      source: ds.source,
      family: ds.family,
      samples: ds.items.filter((i) => 'sample' in i).length,
      report: scoreDetections(ds.windows, detections, { scoredFromMs: ds.startMs + ds.probationMs }),
      labels,
    };
  });
  const families: Summary['families'] = {};
  for (const f of new Set(results.map((r) => r.family))) {
    const { nabNormalized, precision, recall, falsePositives, windows } = aggregate(
      results.filter((r) => r.family === f),
    );
    families[f] = { nabNormalized, precision, recall, falsePositives, windows };
  }
  const types: Record<string, TypeSummary> = {};
  for (const t of new Set(results.flatMap((r) => r.report.perWindow.map((w) => w.type)))) {
    const ws = results.flatMap((r) => r.report.perWindow.filter((w) => w.type === t));
    const ttd = ws.flatMap((w) => (w.timeToDetectMs === undefined ? [] : [w.timeToDetectMs]));
    types[t] = {
      windows: ws.length,
      detected: ttd.length,
      recall: ws.length ? ttd.length / ws.length : 1,
      medianTimeToDetectMs: median(ttd),
      meanTimeToDetectMs: ttd.length ? ttd.reduce((a, b) => a + b, 0) / ttd.length : null,
    };
  }
  return { detector: detector.name, datasets: results, families, types, overall: aggregate(results) };
}
