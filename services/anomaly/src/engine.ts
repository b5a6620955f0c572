import { busway, msFromTimeNs, unsSubject } from '@busway/proto';
import type { Registry } from '@busway/registry';
import { AlarmChange, updateAlarm } from './alarms.js';
import type { EngineOptions } from './config.js';
import { CoolantBalance, type BalanceCheck } from './coolant-balance.js';
import { Detector, Label, newScore, type Score } from './detector.js';
import { Explanations } from './explanations.js';
import { F, STRIDE } from './state-layout.js';

/** An alarm raised or cleared by one sample. */
export interface AlarmTransition {
  active: boolean;
  /** The same on the raise and the clear: `<series>@<raised ms>`. */
  alarmId: string;
  raisedMs: number;
  peakScore: number;
  /** The score that raised or cleared it. */
  score: busway.v1.IAnomalyScore;
}

export interface Scored {
  score: busway.v1.IAnomalyScore;
  alarm?: AlarmTransition;
}

const QUALITY_NOT_SCORED = new Set<number>([busway.v1.Quality.QUALITY_BAD, busway.v1.Quality.QUALITY_STALE]);
const SCORED_FINDINGS = new Set<string>([Label.Spike, Label.LevelShift, Label.Drift]);
const PRUNE_EVERY = 4096;

const fmt = (v: number): string => String(Number(v.toPrecision(4)));

/**
 * Everything the worker does to a sample, without NATS: detectors per series, explanations from jobs and
 * incidents, the CDU heat balance, alarms with hysteresis. The eval harness drives the same engine.
 */
export class AnomalyEngine {
  readonly detector: Detector;
  readonly explanations: Explanations;
  readonly balance: CoolantBalance;
  private readonly out: Score = newScore();
  private readonly physicsOut: Score = newScore();
  private latestMs = -Infinity;
  private sinceprune = 0;

  constructor(
    private readonly opts: EngineOptions,
    registry: () => Registry | undefined,
  ) {
    this.detector = new Detector(opts);
    this.explanations = new Explanations(
      opts.explainWindowMs,
      opts.explainFastWindowMs,
      opts.maxExplanations,
      registry,
    );
    this.balance = new CoolantBalance(opts, registry);
  }

  onEvent(e: busway.v1.IEvent): void {
    this.explanations.onEvent(e);
  }

  onIncident(inc: busway.v1.IIncident): void {
    this.explanations.onIncident(inc);
  }

  /** Scores one sample; undefined for values that are not numbers (booleans, strings). */
  scoreSample(s: busway.v1.ISample): Scored | undefined {
    const raw = s.doubleValue ?? s.intValue;
    if (raw == null) return undefined;
    const x = typeof raw === 'number' ? raw : raw.toNumber();
    const path = s.path ?? {};
    const metric = s.metric ?? '';
    const tMs = msFromTimeNs(s.eventTimeNs);
    const key = s.pointId || unsSubject(path, metric);
    if (s.quality != null && QUALITY_NOT_SCORED.has(s.quality))
      return {
        score: this.message(s, {
          ...newScore(),
          label: Label.Missing,
          observed: x,
          reason: 'quality bad or stale: not scored',
        }),
      };
    if (tMs > this.latestMs) this.latestMs = tMs;
    if (++this.sinceprune >= PRUNE_EVERY) {
      this.sinceprune = 0;
      this.explanations.prune(this.latestMs - 60_000);
    }
    const explains = this.explanations.explains(path, metric, tMs);
    const r = this.detector.score(key, tMs, x, this.out, explains);
    const slot = this.detector.lastSlot;
    if (r.label === Label.Expected) {
      r.score = Math.min(r.score, this.opts.expectedScoreCap);
      r.reason = `expected ${r.detector} ${r.direction > 0 ? 'rise' : 'fall'}: ${this.explanations.reasonFor(path, metric, tMs, r.direction)}`;
    }
    if ((path.assetClass === 'cdu' || path.assetClass === 'pdu') && Number.isFinite(x)) {
      const check = this.balance.observe(path, metric, tMs, x);
      if (check) this.applyBalance(path.asset ?? key, tMs, check, r);
    }
    const score = this.message(s, r);
    if (slot < 0 || r.label === Label.Missing) return { score };
    const eligible = r.label !== Label.Learning && r.label !== Label.Expected && r.label !== Label.Recovery;
    const f64 = this.detector.store.f64;
    const o = slot * STRIDE;
    const change = updateAlarm(f64, o, tMs, r.score, eligible, this.opts);
    if (change === AlarmChange.None) return { score };
    const raisedMs = f64[o + F.alarmRaisedT]!;
    return {
      score,
      alarm: {
        active: change === AlarmChange.Raised,
        alarmId: `${key}@${raisedMs}`,
        raisedMs,
        peakScore: f64[o + F.alarmPeak]!,
        score,
      },
    };
  }

  /** A heat balance that does not fit outranks the return temperature's own finding. */
  private applyBalance(cdu: string, tMs: number, check: BalanceCheck, r: Score): void {
    const p = this.detector.score(`heat-balance:${cdu}`, tMs, check.residualK, this.physicsOut, 0);
    if (!SCORED_FINDINGS.has(p.label) || p.score <= r.score) return;
    r.score = p.score;
    r.label = Label.Physics;
    r.detector = `heat-balance/${p.detector}`;
    r.expected = check.expectedReturnC;
    r.direction = p.direction;
    r.reason = `coolant dT ${fmt(check.observedDeltaK)} K does not fit ${fmt(check.heatW / 1000)} kW at ${fmt(check.flowLpm)} L/min (Q = m*cp*dT expects ${fmt(check.expectedDeltaK)} K); the residual shows a ${p.label}: ${p.reason}`;
  }

  private message(s: busway.v1.ISample, r: Score): busway.v1.IAnomalyScore {
    return {
      pointId: s.pointId,
      path: s.path,
      metric: s.metric,
      eventTimeNs: s.eventTimeNs,
      score: r.score,
      label: r.label,
      detector: r.detector,
      expected: r.expected,
      observed: r.observed,
      reason: r.reason,
    };
  }
}
