import type { Detection, LabelledWindow } from './types.js';

/** NAB's application profiles: weight of a true positive, a false positive and a missed window. */
export const Profiles = {
  standard: { tp: 1, fp: 0.11, fn: 1 },
  rewardLowFp: { tp: 1, fp: 0.22, fn: 1 },
  rewardLowFn: { tp: 1, fp: 0.11, fn: 2 },
} as const;
export type Profile = (typeof Profiles)[keyof typeof Profiles];

/** NAB's scaled sigmoid: about 1 at a window's start, 0 at its end, toward -1 well after it. */
export function scaledSigmoid(relativePosition: number): number {
  if (relativePosition > 3) return -1;
  return 2 / (1 + Math.exp(5 * relativePosition)) - 1;
}

export interface WindowResult {
  id: string;
  type: string;
  detected: boolean;
  /** First detection minus the window's start, ms. */
  timeToDetectMs?: number;
}

export interface ScoreReport {
  windows: number;
  detectedWindows: number;
  /** First detections inside windows (later ones in the same window count for nothing, as in NAB). */
  truePositives: number;
  falsePositives: number;
  precision: number;
  recall: number;
  f1: number;
  /** NAB-style raw score with the standard profile, and normalized: 100 perfect, 0 the null detector. */
  nabRaw: number;
  /** Raw scores of a perfect detector and of one that never detects: to normalize a sum over datasets. */
  nabPerfect: number;
  nabNull: number;
  /** null for a stream without windows (normalization is undefined there; see nabRaw). */
  nabNormalized: number | null;
  perWindow: WindowResult[];
}

export interface ScoreOptions {
  /** Detections and windows before this time are not scored. */
  scoredFromMs: number;
  profile?: Profile;
}

/**
 * Scores detections against labelled windows, in the spirit of the NAB scoring: the first detection inside
 * a window earns tp x sigmoid(its relative position) (early is worth more), every detection outside a window
 * costs fp x sigmoid(its distance after the last window of that point, in window lengths; a full fp before
 * any), every missed window costs fn. A window labels every point it lists; a detection counts for a window
 * only on one of its points. Plain precision, recall and time-to-detect come from the same matching.
 */
export function scoreDetections(
  windows: readonly LabelledWindow[],
  detections: readonly Detection[],
  o: ScoreOptions,
): ScoreReport {
  const profile = o.profile ?? Profiles.standard;
  const scored = windows.filter((w) => w.startMs >= o.scoredFromMs);
  const byPoint = new Map<string, LabelledWindow[]>();
  for (const w of windows) for (const p of w.pointIds) byPoint.set(p, [...(byPoint.get(p) ?? []), w]);
  const first = new Map<string, number>();
  let fp = 0;
  let raw = 0;
  const sorted = [...detections].sort((a, b) => a.tMs - b.tMs);
  for (const d of sorted) {
    if (d.tMs < o.scoredFromMs) continue;
    const mine = byPoint.get(d.pointId) ?? [];
    // overlapping windows (two faults in a row on one point): the earliest one not yet detected takes it
    const containing = mine.filter((w) => d.tMs >= w.startMs && d.tMs <= w.endMs);
    const inside = containing.find((w) => !first.has(w.id)) ?? containing[0];
    if (inside) {
      if (inside.startMs < o.scoredFromMs || first.has(inside.id)) continue;
      first.set(inside.id, d.tMs);
      const len = Math.max(1, inside.endMs - inside.startMs);
      raw += profile.tp * scaledSigmoid(-(inside.endMs - d.tMs) / len);
      continue;
    }
    fp++;
    const before = mine.filter((w) => w.endMs < d.tMs).sort((a, b) => b.endMs - a.endMs)[0];
    raw += before
      ? profile.fp * scaledSigmoid((d.tMs - before.endMs) / Math.max(1, before.endMs - before.startMs))
      : -profile.fp;
  }
  const perWindow: WindowResult[] = scored.map((w) => {
    const t = first.get(w.id);
    return t === undefined
      ? { id: w.id, type: w.type, detected: false }
      : { id: w.id, type: w.type, detected: true, timeToDetectMs: t - w.startMs };
  });
  const detectedWindows = perWindow.filter((w) => w.detected).length;
  raw -= profile.fn * (scored.length - detectedWindows);
  const tp = detectedWindows;
  const precision = tp + fp === 0 ? (scored.length === 0 ? 1 : 0) : tp / (tp + fp);
  const recall = scored.length === 0 ? 1 : tp / scored.length;
  const perfect = profile.tp * scored.length * scaledSigmoid(-1);
  const nothing = -profile.fn * scored.length;
  const nabNormalized = scored.length === 0 ? null : normalizedNab(raw, perfect, nothing);
  return {
    windows: scored.length,
    detectedWindows,
    truePositives: tp,
    falsePositives: fp,
    precision,
    recall,
    f1: precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall),
    nabRaw: raw,
    nabPerfect: perfect,
    nabNull: nothing,
    nabNormalized,
    perWindow,
  };
}

/** 100 for a perfect detector, 0 for one that detects nothing (negative below that). */
export function normalizedNab(raw: number, perfect: number, nothing: number): number {
  return (100 * (raw - nothing)) / (perfect - nothing);
}
