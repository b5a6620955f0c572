import { busway, timeNsFromMs } from '@busway/proto';
import type { Registry } from '@busway/registry';

export interface CorrelationOptions {
  powerWindowMs: number;
  powerStepMinW: number;
  thermalWindowMs: number;
  thermalRiseMinC: number;
}

interface Point {
  t: number;
  v: number;
}

interface RackWatch {
  rack: string;
  path: busway.v1.IUnsPath;
  baselineW?: number;
  lastLow?: Point;
  power?: { t: number; magnitudeW: number; pdu: busway.v1.IUnsPath };
  coolers: string[];
  thermal: Map<
    string,
    {
      baselineC?: number;
      lastLow?: Point;
      rise?: { t: number; magnitudeC: number; path: busway.v1.IUnsPath };
    }
  >;
}

interface JobWindow {
  jobId: string;
  eventId: string;
  t: number;
  racks: RackWatch[];
}

const HISTORY_MS = 5000;

/**
 * Ties a job start to the power step of the racks it runs on and to the coolant answer of the CDUs that
 * cool them, on the event-time ordered stream, and measures the lags. A rack power step that no job
 * explains is an incident of its own. Fed in event-time order; `advance` closes windows the watermark passed.
 */
export class CorrelationEngine {
  private readonly jobs: JobWindow[] = [];
  private readonly power = new Map<string, Point[]>();
  private readonly coolant = new Map<string, Point[]>();
  private readonly transientCooldown = new Map<string, number>();

  constructor(
    private readonly opts: CorrelationOptions,
    private readonly registry: () => Registry,
    private readonly site: string,
  ) {}

  onEvent(e: busway.v1.IEvent, timeMs: number): void {
    const job = e.job;
    if (!job || job.phase !== busway.v1.JobPhase.JOB_PHASE_STARTED) return;
    const reg = this.registry();
    const racks: RackWatch[] = (job.racks ?? []).map((path) => {
      const rack = path.rack ?? '';
      const history = this.power.get(rack) ?? [];
      const before = history.filter((p) => p.t <= timeMs);
      const baselineW = before.length ? before.reduce((s, p) => s + p.v, 0) / before.length : undefined;
      const coolers = reg.coolersOf(rack).map((a) => a.id);
      return {
        rack,
        path,
        baselineW,
        lastLow: before.at(-1),
        coolers,
        thermal: new Map(coolers.map((c) => [c, {}])),
      };
    });
    this.jobs.push({ jobId: job.jobId ?? '', eventId: e.id ?? '', t: timeMs, racks });
  }

  /** Feeds one ordered sample; returns the incidents it completes. */
  onSample(s: busway.v1.ISample, timeMs: number): busway.v1.IIncident[] {
    const value = s.doubleValue ?? (s.intValue != null ? Number(s.intValue.toString()) : undefined);
    if (value === undefined || !s.path) return [];
    const out: busway.v1.IIncident[] = [];
    if (s.metric === 'power.active' && s.path.assetClass === 'pdu') {
      const rack = s.path.rack ?? '';
      const transient = this.onPower(rack, s.path, { t: timeMs, v: value });
      if (transient) out.push(transient);
      this.remember(this.power, rack, { t: timeMs, v: value });
    } else if (s.metric === 'temperature.coolant.return' && s.path.assetClass === 'cdu') {
      this.onCoolant(s.path.asset ?? '', s.path, { t: timeMs, v: value });
      this.remember(this.coolant, s.path.asset ?? '', { t: timeMs, v: value });
    }
    return out;
  }

  private remember(map: Map<string, Point[]>, key: string, p: Point): void {
    const list = map.get(key) ?? [];
    list.push(p);
    while (list.length > 0 && (list[0] as Point).t < p.t - HISTORY_MS) list.shift();
    map.set(key, list);
  }

  private onPower(rack: string, pdu: busway.v1.IUnsPath, p: Point): busway.v1.IIncident | undefined {
    let explained = false;
    for (const job of this.jobs) {
      if (p.t < job.t || p.t > job.t + this.opts.powerWindowMs) continue;
      for (const w of job.racks) {
        if (w.rack !== rack) continue;
        explained = true;
        if (w.power) continue;
        if (w.baselineW === undefined) w.baselineW = p.v;
        if (p.v - w.baselineW >= this.opts.powerStepMinW) {
          // the step happened between the last low sample and this one: take the midpoint
          const stepT = (Math.max(w.lastLow?.t ?? job.t, job.t) + p.t) / 2;
          w.power = { t: stepT, magnitudeW: p.v - w.baselineW, pdu };
          for (const c of w.coolers) {
            const hist = this.coolant.get(c) ?? [];
            const th = w.thermal.get(c);
            if (th) th.baselineC = hist.filter((h) => h.t <= stepT).at(-1)?.v;
          }
        } else w.lastLow = p;
      }
    }
    return explained ? undefined : this.transient(rack, pdu, p);
  }

  private transient(rack: string, pdu: busway.v1.IUnsPath, p: Point): busway.v1.IIncident | undefined {
    const history = (this.power.get(rack) ?? []).filter((h) => h.t >= p.t - 1000);
    if (history.length === 0 || p.t < (this.transientCooldown.get(rack) ?? -Infinity)) return undefined;
    const baseline = history.reduce((s, h) => s + h.v, 0) / history.length;
    if (p.v - baseline < this.opts.powerStepMinW) return undefined;
    this.transientCooldown.set(rack, p.t + this.opts.powerWindowMs);
    const last = history.at(-1) as Point;
    const stepT = (last.t + p.t) / 2;
    return {
      id: `unexplained-power-transient:${pdu.asset}:${Math.round(stepT)}`,
      kind: 'unexplained-power-transient',
      startNs: timeNsFromMs(stepT),
      endNs: timeNsFromMs(p.t),
      chain: [
        {
          role: 'power-response',
          path: pdu,
          metric: 'power.active',
          timeNs: timeNsFromMs(stepT),
          magnitude: p.v - baseline,
          unit: 'W',
          lagMs: 0,
        },
      ],
      confidence: Math.min(1, (p.v - baseline) / (2 * this.opts.powerStepMinW)),
      summary: `rack ${rack} power rose ${Math.round(p.v - baseline)} W with no job started on it`,
      path: pdu,
    };
  }

  private onCoolant(cdu: string, path: busway.v1.IUnsPath, p: Point): void {
    for (const job of this.jobs) {
      for (const w of job.racks) {
        const th = w.thermal.get(cdu);
        if (!th || !w.power || th.rise || p.t < w.power.t || p.t > w.power.t + this.opts.thermalWindowMs)
          continue;
        th.baselineC ??= p.v;
        if (p.v - th.baselineC >= this.opts.thermalRiseMinC)
          th.rise = { t: p.t, magnitudeC: p.v - th.baselineC, path };
        else th.lastLow = p;
      }
    }
  }

  /** Closes the jobs whose windows the watermark has passed, or that are fully explained; returns incidents. */
  advance(watermarkMs: number): busway.v1.IIncident[] {
    const out: busway.v1.IIncident[] = [];
    for (let i = this.jobs.length - 1; i >= 0; i--) {
      const job = this.jobs[i] as JobWindow;
      const complete = job.racks.every((w) => w.power && [...w.thermal.values()].every((th) => th.rise));
      const expired = watermarkMs > job.t + this.opts.powerWindowMs + this.opts.thermalWindowMs;
      if (!complete && !expired) continue;
      this.jobs.splice(i, 1);
      out.push(this.incidentOf(job));
    }
    return out.reverse();
  }

  private incidentOf(job: JobWindow): busway.v1.IIncident {
    const chain: busway.v1.IIncidentLink[] = [
      { role: 'cause', eventId: job.eventId, timeNs: timeNsFromMs(job.t), lagMs: 0, metric: 'job.started' },
    ];
    let found = 0;
    let parts = 0;
    let end = job.t;
    for (const w of job.racks) {
      parts += 1 + w.thermal.size;
      if (!w.power) continue;
      found++;
      chain.push({
        role: 'power-response',
        path: w.power.pdu,
        metric: 'power.active',
        timeNs: timeNsFromMs(w.power.t),
        magnitude: w.power.magnitudeW,
        unit: 'W',
        lagMs: w.power.t - job.t,
      });
      for (const th of w.thermal.values()) {
        if (!th.rise) continue;
        found++;
        end = Math.max(end, th.rise.t);
        chain.push({
          role: 'thermal-response',
          path: th.rise.path,
          metric: 'temperature.coolant.return',
          timeNs: timeNsFromMs(th.rise.t),
          magnitude: th.rise.magnitudeC,
          unit: 'Cel',
          lagMs: th.rise.t - w.power.t,
        });
      }
    }
    const rackIds = job.racks.map((w) => w.rack).join(', ');
    return {
      id: `job-power-thermal:${job.jobId}`,
      kind: 'job-power-thermal',
      startNs: timeNsFromMs(job.t),
      endNs: timeNsFromMs(end),
      chain,
      confidence: parts ? found / parts : 0,
      summary: `job ${job.jobId} on ${rackIds}: ${found} of ${parts} expected responses seen`,
      path: job.racks[0]?.path ?? { site: this.site },
    };
  }

  get openJobs(): number {
    return this.jobs.length;
  }
}
