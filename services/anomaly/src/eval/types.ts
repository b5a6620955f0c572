import type { busway } from '@busway/proto';
import type { Registry } from '@busway/registry';

/** A labelled anomaly: where (the points it shows on) and when (its window, in event time). */
export interface LabelledWindow {
  id: string;
  /** Fault or anomaly type: spike, drift, pump-degradation, level-shift, ... */
  type: string;
  pointIds: string[];
  startMs: number;
  endMs: number;
}

/** One step of a labelled stream, in event-time order. */
export type StreamItem = { sample: busway.v1.ISample } | { event: busway.v1.IEvent };

/** A labelled stream, as a detector sees it. */
export interface Dataset {
  name: string;
  /** Where it comes from: simulator, synthetic (a generator family), nab (files in NAB's format). */
  source: string;
  /** The family of series, for the per-family report. */
  family: string;
  items: StreamItem[];
  windows: LabelledWindow[];
  /** Detections before this are not scored (warm-up), like NAB's probationary period. */
  probationMs: number;
  startMs: number;
  endMs: number;
  registry?: Registry;
}

/** An alarm raised on a point: what the scoring counts. */
export interface Detection {
  pointId: string;
  tMs: number;
  label?: string;
}

/** Anything that turns a stream into detections: the engine, or a reference detector for the harness tests. */
export interface EvalDetector {
  name: string;
  detect(dataset: Dataset): Detection[];
}
