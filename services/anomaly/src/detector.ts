import type { DetectorOptions } from './config.js';
import { CUSUM_ALLOWANCE, resetCusum, updateCusum } from './detectors/change-point.js';
import { updateDrift, updateSlope } from './detectors/drift.js';
import {
  RELEARN_SAMPLES,
  initBaseline,
  sigmaOf,
  tailFactorOf,
  updateBaseline,
  updateTail,
} from './detectors/robust-baseline.js';
import { seasonalOffset, updateSeasonal } from './detectors/seasonal.js';
import { updateStuck } from './detectors/stuck.js';
import { spikeSeverity } from './detectors/transient.js';
import { SeriesStore } from './series-store.js';
import { F, Flag, hasFlag, PROFILE_BUCKETS, STRIDE } from './state-layout.js';

export const Label = {
  Learning: 'learning',
  Normal: 'normal',
  Missing: 'missing',
  Spike: 'spike',
  LevelShift: 'level-shift',
  Drift: 'drift',
  Stuck: 'stuck',
  Expected: 'expected',
  Physics: 'physics-inconsistent',
  Recovery: 'recovery',
} as const;
export type Label = (typeof Label)[keyof typeof Label];

/** Which changes something outside the series explains: bit 1 a rise, bit 2 a fall. */
export const Explains = { None: 0, Rise: 1, Fall: 2 } as const;

/** One scored sample. Reused between calls on the hot path: copy what you keep. */
export interface Score {
  /** [0, 1]; 0.5 where the strongest detector crosses its own threshold. */
  score: number;
  label: Label;
  /** The detector behind the label (for `expected`: the one whose finding was explained). */
  detector: string;
  expected: number;
  observed: number;
  /** Empty for normal and learning samples (built only when there is something to say). */
  reason: string;
  /** +1 a rise, -1 a fall, 0 neither (stuck, normal). */
  direction: number;
}

export const newScore = (): Score => ({
  score: 0,
  label: Label.Learning,
  detector: 'robust-baseline',
  expected: 0,
  observed: 0,
  reason: '',
  direction: 0,
});

/** Severity (1 at a detector's threshold) to a score: 0.5 at 1, 0.94 at 2, 0.06 at 0.5. */
export function scoreOf(severity: number): number {
  const a = Math.abs(severity);
  if (!(a > 0)) return 0;
  if (a > 1e3) return 1;
  const a4 = a * a * a * a;
  return a4 / (1 + a4);
}

/** A return to within this many sigmas of the level before a finding is a recovery. */
const RECOVERY_SIGMAS = 3;
/** Findings this many drift horizons apart are separate episodes (the pre-episode level is forgotten). */
const EPISODE_HORIZONS = 1;
/** A jump this many times the largest step a job ever explained on the series is not explained by one. */
const EXPLAINED_STEP_FACTOR = 3;
/** A series that starts more episodes than this per drift horizon changes routinely: it needs bigger ones. */
const ROUTINE_EPISODES = 2;
/** Changes in one direction this close together are one trend, not separate level shifts. */
const TREND_SAMPLES_PER_ALPHA = 5;

const fmt = (v: number): string => (Number.isFinite(v) ? String(Number(v.toPrecision(5))) : String(v));

/**
 * Scores every series online with bounded, fixed-size state: a robust baseline (Huber EWMA of level and
 * scale, tail-corrected), the fast path for spikes, a CUSUM change-point detector, a drift detector against a
 * long-term anchor, a stuck-value detector and a daily profile once the series has shown one. The strongest
 * finding gives the score, the label and the reason.
 */
export class Detector {
  readonly store: SeriesStore;
  /** Slot of the series the last call to score() used (-1 when it kept no state). */
  lastSlot = -1;

  constructor(private readonly opts: DetectorOptions) {
    this.store = new SeriesStore(opts.maxSeries);
  }

  get size(): number {
    return this.store.size;
  }

  /** Scores `x` at `tMs` on series `key` into `out` (also returned). `explains`: see Explains. */
  score(key: string, tMs: number, x: number, out: Score = newScore(), explains = 0): Score {
    out.observed = x;
    out.reason = '';
    out.direction = 0;
    out.score = 0;
    out.detector = 'robust-baseline';
    let slot = this.store.find(key);
    this.lastSlot = slot;
    if (!Number.isFinite(x) || !Number.isFinite(tMs)) {
      out.label = Label.Missing;
      out.expected = slot >= 0 ? this.store.f64[slot * STRIDE + F.level]! : 0;
      return out;
    }
    if (slot < 0) {
      slot = this.store.allocate(key);
      this.lastSlot = slot;
      this.init(slot, tMs, x);
      return this.learning(out, x, 1);
    }
    this.update(slot, tMs, x, out, explains);
    const o = slot * STRIDE;
    const f = this.store.f64;
    if (!Number.isFinite(f[o + F.level]! + f[o + F.scale]! + f[o + F.anchor]! + f[o + F.wander]!)) {
      // values near the float limit overflowed the baseline: start the series over rather than carry NaN
      this.store.f64.fill(0, o, o + STRIDE);
      this.init(slot, tMs, x);
    }
    return out;
  }

  private init(slot: number, tMs: number, x: number): void {
    const s = this.store.f64;
    const o = slot * STRIDE;
    initBaseline(s, o, x);
    s[o + F.n] = 1;
    s[o + F.lastT] = tMs;
    s[o + F.lastX] = x;
    s[o + F.anchor] = x;
    s[o + F.wander] = 0.1;
    s[o + F.normalBase] = Number.NaN;
    s[o + F.sinceAdopt] = RELEARN_SAMPLES;
    s[o + F.firstT] = tMs;
    s[o + F.visitBucket] = -1;
    updateSeasonal(s, o, this.store.f32, slot * PROFILE_BUCKETS, tMs, x, this.opts.seasonalMinDays);
  }

  private learning(out: Score, x: number, n: number): Score {
    out.label = Label.Learning;
    out.expected = x;
    out.reason = n === 1 ? 'first sample' : '';
    return out;
  }

  private update(slot: number, tMs: number, x: number, out: Score, explains: number): Score {
    const { opts } = this;
    const s = this.store.f64;
    const o = slot * STRIDE;
    const po = slot * PROFILE_BUCKETS;
    const dtMs = Math.max(0, tMs - s[o + F.lastT]!);
    const wasVaried = hasFlag(s, o, Flag.Varied);
    const repeated = x === s[o + F.lastX];
    const stuck = updateStuck(s, o, x, opts.stuckSamples);
    if (!wasVaried && hasFlag(s, o, Flag.Varied) && s[o + F.n]! >= opts.warmupSamples) {
      // flat until now: its noise is unknown, so it learns afresh from its first change
      initBaseline(s, o, x);
      s[o + F.n] = 0;
      s[o + F.anchor] = x;
    }
    const shift = updateSeasonal(s, o, this.store.f32, po, tMs, x, opts.seasonalMinDays);
    if (shift !== 0) {
      s[o + F.level] = s[o + F.level]! - shift;
      s[o + F.fast] = s[o + F.fast]! - shift;
      s[o + F.anchor] = s[o + F.anchor]! - shift;
    }
    const seasonal = hasFlag(s, o, Flag.Seasonal) ? seasonalOffset(s, o, this.store.f32, po, tMs) : 0;
    const y = x - seasonal;
    const n = s[o + F.n]!;
    const learning = n < opts.warmupSamples || !hasFlag(s, o, Flag.Varied);
    const level = s[o + F.level]!;
    const sigma = sigmaOf(s, o);
    const tail = tailFactorOf(s, o);
    const z = (y - level) / sigma;
    const zn = z / tail;
    // an explained change is adopted at once; a jump is not, until the next sample shows it is a step
    const pendingBefore = s[o + F.pendingSpike]!;
    const adopt =
      explains !== 0 &&
      !learning &&
      (Math.abs(zn) < opts.zThreshold || (pendingBefore !== 0 && Math.sign(zn) === Math.sign(pendingBefore)));
    // a step to a new operating point (not the small moves of an explained window) relearns the noise there
    const stepped = adopt && Math.abs(zn) >= opts.zThreshold / 2;
    // the sample after an explained jump confirms it was a step: remember how big steps a job makes here
    if (adopt && pendingBefore !== 0 && Math.sign(zn) === Math.sign(pendingBefore))
      s[o + F.explainedStep] = Math.max(0.999 * s[o + F.explainedStep]!, Math.abs(y - level));
    const sinceAdopt = stepped ? 0 : s[o + F.sinceAdopt]! + 1;
    s[o + F.sinceAdopt] = sinceAdopt;
    updateBaseline(s, o, y, sigma, tail, learning, opts.alpha, repeated, adopt, adopt ? 0 : sinceAdopt - 1);
    s[o + F.n] = n + 1;
    s[o + F.lastT] = tMs;
    s[o + F.lastX] = x;
    if (learning) {
      s[o + F.anchor] = s[o + F.level]!;
      resetCusum(s, o);
      this.learning(out, level + seasonal, n + 1);
      out.reason = `learning (${n + 1}/${opts.warmupSamples})`;
      return out;
    }
    updateTail(s, o, Math.abs(z));
    const explained = explains !== 0;
    // a series whose level changes all the time (a duty cycle, a random walk) needs bigger changes to alarm
    const routine = Math.max(1, (s[o + F.episodeRate]! * opts.driftHorizonSamples) / ROUTINE_EPISODES);
    const rawSpike = spikeSeverity(zn, opts.zThreshold);
    // while the noise of a new operating point is learned, a transient there is not judged yet
    const relearning = sinceAdopt < RELEARN_SAMPLES;
    const spike = relearning ? 0 : rawSpike / routine;
    const change = updateCusum(s, o, zn, opts.changeThreshold * routine);
    const drift =
      updateDrift(
        s,
        o,
        sigma,
        // an explained change is the new normal at once: the anchor follows the level while it lasts
        explained ? 1 : Math.max(1 / opts.driftHorizonSamples, 1 / (n + 1)),
        opts.driftThreshold,
        n - opts.warmupSamples,
      ) / routine;
    updateSlope(s, o, level, dtMs);
    s[o + F.sinceChange] = s[o + F.sinceChange]! + 1;

    out.expected = level + seasonal;
    // the strongest finding; ties go to the more sustained one
    let label: Label = Label.Normal;
    let severity = Math.max(Math.abs(spike), Math.abs(change), Math.abs(drift), stuck);
    let direction = 0;
    if (stuck >= 1) {
      label = Label.Stuck;
      out.detector = 'stuck';
      out.reason = `stuck at ${fmt(x)} for ${s[o + F.run]! + 1} samples (longest healthy run ${s[o + F.maxRun]})`;
    } else if (Math.abs(change) >= 1) {
      direction = Math.sign(change);
      // another change the same way soon after, or further away from where an open episode began: a trend
      const base = s[o + F.normalBase]!;
      const trend =
        s[o + F.lastChangeDir] === direction &&
        (s[o + F.sinceChange]! <= TREND_SAMPLES_PER_ALPHA / opts.alpha ||
          (!Number.isNaN(base) && Math.sign(level - base) === direction));
      label = trend ? Label.Drift : Label.LevelShift;
      out.detector = 'cusum';
      const newLevel = s[o + F.fast]!;
      out.reason = trend
        ? `trend ${direction > 0 ? 'up' : 'down'}: another change the same way, level ${fmt(level + seasonal)} -> ${fmt(newLevel + seasonal)} (${fmt(s[o + F.slopePerMs]! * 60_000)}/min), ${fmt((newLevel - s[o + F.anchor]!) / sigma)} sigma from the long-term ${fmt(s[o + F.anchor]! + seasonal)}`
        : `level shift ${direction > 0 ? 'up' : 'down'}: ${fmt(level + seasonal)} -> ${fmt(newLevel + seasonal)} (CUSUM ${fmt(Math.abs(change) * opts.changeThreshold)} over ${opts.changeThreshold}, allowance ${CUSUM_ALLOWANCE} sigma = ${fmt(sigma)})`;
      // adopt the new level; the anchor stays, so the change counts as a drift until it is the new normal
      s[o + F.level] = newLevel;
      resetCusum(s, o);
      s[o + F.lastChangeDir] = direction;
      s[o + F.sinceChange] = 0;
    } else if (Math.abs(spike) >= 1 && Math.abs(spike) >= Math.abs(drift)) {
      direction = Math.sign(spike);
      label = Label.Spike;
      out.detector = 'spike';
      out.reason = `spike: ${fmt(x)} where ${fmt(out.expected)} +/- ${fmt(sigma * tail)} was expected (z ${fmt(z)})`;
    } else if (Math.abs(drift) >= 1) {
      direction = Math.sign(drift);
      label = Label.Drift;
      out.detector = 'drift';
      out.expected = s[o + F.anchor]! + seasonal;
      out.reason = `drift ${direction > 0 ? 'up' : 'down'}: level ${fmt(level + seasonal)} is ${fmt(Math.abs(level - s[o + F.anchor]!) / sigma)} sigma from the long-term ${fmt(out.expected)} (${fmt(s[o + F.slopePerMs]! * 60_000)}/min)`;
    } else {
      direction = Math.sign(zn);
      out.detector =
        severity === Math.abs(change) ? 'cusum' : severity === Math.abs(drift) ? 'drift' : 'spike';
      if (stuck > 0 && severity === stuck) out.detector = 'stuck';
    }

    // a transient inside an explained window may be the first sample of the expected step: confirm it
    const pending = s[o + F.pendingSpike]!;
    let confirmed = false;
    if (pending !== 0) {
      s[o + F.pendingSpike] = 0;
      const continues = Math.sign(zn) === Math.sign(pending) && Math.abs(rawSpike) >= 0.5;
      // coming back is no proof of a spike when the way back is explained too (a job ended, another started)
      const backExplained = (explains & (pending > 0 ? Explains.Fall : Explains.Rise)) !== 0;
      if (!continues && !backExplained && label === Label.Normal) {
        label = Label.Spike;
        confirmed = true;
        severity = Math.abs(pending);
        direction = Math.sign(pending);
        out.detector = 'spike';
        out.reason = `spike confirmed: the previous sample jumped ${direction > 0 ? 'up' : 'down'} (severity ${fmt(severity)}) and ${fmt(x)} is back near ${fmt(out.expected)}`;
      }
    }
    const shiftOrDrift = label === Label.LevelShift || label === Label.Drift;
    const base = s[o + F.normalBase]!;
    // a jump back (its first samples, before the CUSUM confirms it) or a confirmed change back
    const back = shiftOrDrift || label === Label.Spike;
    if (back && this.recovers(s, o, direction, level, y, sigma * tail, shiftOrDrift)) {
      out.label = Label.Recovery;
      out.expected = base + seasonal;
      out.reason = `recovery: back to ${fmt(out.expected)}, the level before the last finding (${out.detector})`;
      out.score = Math.min(scoreOf(severity), 0.2);
      out.direction = direction;
      return out;
    }
    const explainable =
      label === Label.LevelShift || label === Label.Drift || (label === Label.Spike && !confirmed);
    const mask = direction > 0 ? Explains.Rise : Explains.Fall;
    // a single jump far bigger than any confirmed step a job explained on this series is not explained
    const step = s[o + F.explainedStep]!;
    const plausible =
      label !== Label.Spike ||
      step === 0 ||
      Math.abs(y - level) <= EXPLAINED_STEP_FACTOR * step + 3 * sigma * tail;
    if (explainable && plausible && (explains & mask) !== 0) {
      if (label === Label.Spike) s[o + F.pendingSpike] = direction * severity;
      out.label = Label.Expected;
      out.score = scoreOf(severity);
      out.direction = direction;
      return out;
    }
    this.episode(s, o, label, severity, label === Label.Drift ? s[o + F.anchor]! : level);
    out.label = label;
    out.score = scoreOf(severity);
    out.direction = direction;
    return out;
  }

  /**
   * A finding that brings the series back to where it was before the current episode: the fault went away
   * (a pump repaired, a sensor recalibrated). The baseline and the anchor return to that level.
   */
  private recovers(
    s: Float64Array,
    o: number,
    direction: number,
    levelBefore: number,
    y: number,
    band: number,
    confirmed: boolean,
  ): boolean {
    const base = s[o + F.normalBase]!;
    if (Number.isNaN(base) || direction === 0 || Math.sign(base - levelBefore) !== direction) return false;
    // back within the band, or at least half way back on a gradual return
    if (Math.abs(y - base) > Math.max(RECOVERY_SIGMAS * band, 0.5 * Math.abs(levelBefore - base)))
      return false;
    if (!confirmed) return true;
    s[o + F.level] = y;
    s[o + F.fast] = y;
    s[o + F.anchor] = base;
    s[o + F.normalBase] = Number.NaN;
    resetCusum(s, o);
    return true;
  }

  /** Remembers the level before a run of findings; forgets it once the series has been calm for long. */
  private episode(s: Float64Array, o: number, label: Label, severity: number, levelBefore: number): void {
    const calm = s[o + F.sinceFinding]! + 1;
    const rateAlpha = 1 / this.opts.driftHorizonSamples;
    const starts = label !== Label.Normal && severity >= 1 && calm > 1 / this.opts.alpha;
    s[o + F.episodeRate] = s[o + F.episodeRate]! + rateAlpha * ((starts ? 1 : 0) - s[o + F.episodeRate]!);
    if (label !== Label.Normal && severity >= 1) {
      if (Number.isNaN(s[o + F.normalBase]!)) s[o + F.normalBase] = levelBefore;
      s[o + F.sinceFinding] = 0;
    } else {
      s[o + F.sinceFinding] = calm;
      if (calm > EPISODE_HORIZONS * this.opts.driftHorizonSamples) s[o + F.normalBase] = Number.NaN;
    }
  }

  /** The current level and robust sigma of a series (for tests and reasons), or undefined. */
  peek(key: string): { level: number; sigma: number; n: number; seasonal: boolean } | undefined {
    const slot = this.store.find(key);
    if (slot < 0) return undefined;
    const o = slot * STRIDE;
    const s = this.store.f64;
    return {
      level: s[o + F.level]!,
      sigma: sigmaOf(s, o),
      n: s[o + F.n]!,
      seasonal: hasFlag(s, o, Flag.Seasonal),
    };
  }
}
