import { F, Flag, hasFlag, setFlag } from '../state-layout.js';

/** The longest normal run of identical values fades slowly, so one long quiet spell is not remembered forever. */
const MAX_RUN_DECAY = 0.999;
/** A stuck run must be this many times longer than the longest run the series showed while healthy. */
const RUN_FACTOR = 3;

/**
 * A sensor that freezes: the same value repeated far longer than this series ever repeats one while it
 * varies. Quantized or report-by-exception series repeat values normally, so the threshold is learned per
 * series (RUN_FACTOR x its longest healthy run), never below `minSamples`. Also learns the smallest step
 * between values (the quantum). Call before lastX is updated. Returns the severity (1 at the threshold).
 */
export function updateStuck(s: Float64Array, o: number, x: number, minSamples: number): number {
  const last = s[o + F.lastX]!;
  const limit = Math.max(minSamples, RUN_FACTOR * s[o + F.maxRun]!);
  if (x === last) {
    const run = s[o + F.run]! + 1;
    s[o + F.run] = run;
    return hasFlag(s, o, Flag.Varied) ? (run + 1) / limit : 0;
  }
  const run = s[o + F.run]!;
  // a run that was itself flagged stuck does not teach what a healthy run is
  if (run + 1 < limit) s[o + F.maxRun] = Math.max(s[o + F.maxRun]! * MAX_RUN_DECAY, run + 1);
  s[o + F.run] = 0;
  const step = Math.abs(x - last);
  const minStep = s[o + F.minStep]!;
  if (step > 0 && (minStep === 0 || step < minStep)) s[o + F.minStep] = step;
  setFlag(s, o, Flag.Varied, true);
  return 0;
}
