// Incidents as the contract states them: a chain of links with measured lags, magnitudes and a confidence.
import { type busway, timeNsFromMs } from '@busway/proto';
import type { ChainWindow, GridWindow } from './engine-state.js';
import type { JobChainRule, PowerTarget, ThermalTarget, UnexplainedPowerRule } from './rules.js';
import type { Topology } from './topology.js';
import { uniformSd } from './series.js';

type ChainRule = JobChainRule | UnexplainedPowerRule;

function powerTargetsOf(rule: ChainRule): PowerTarget[] {
  return rule.type === 'job-chain'
    ? rule.power
    : [
        {
          select: 'rack',
          classes: rule.watch.classes,
          metric: rule.watch.metric,
          role: 'power-response',
          minStep: rule.watch.minStep,
          windowMs: 0,
          leadMs: 0,
          required: true,
        },
      ];
}

/**
 * A chain's incident. Power links lag from the cause (the job event; 0 for an unexplained step), thermal links
 * from the power step they answer. Confidence: the share of required links found.
 */
export function chainIncident(
  w: ChainWindow,
  rule: ChainRule,
  topo: Topology,
  site: string,
): busway.v1.IIncident {
  const power = powerTargetsOf(rule);
  const thermal: ThermalTarget[] = rule.thermal;
  const chain: busway.v1.IIncidentLink[] = [];
  if (w.eventId !== undefined)
    chain.push({
      role: 'cause',
      eventId: w.eventId,
      timeNs: timeNsFromMs(w.t),
      lagMs: 0,
      metric: 'job.started',
    });
  let expected = 0;
  let found = 0;
  let end = w.t;
  for (const r of w.racks) {
    for (const p of r.power) {
      const target = power[p.target] as PowerTarget;
      if (target.required) expected++;
      if (!p.step) continue;
      if (target.required) found++;
      chain.push({
        role: target.role,
        path: topo.pathOf(p.asset) ?? { site, asset: p.asset },
        metric: target.metric,
        timeNs: timeNsFromMs(p.step.t),
        magnitude: p.step.dp,
        unit: 'W',
        // from the middle of the job event's clock step (a truncated time is early by half of it on average)
        lagMs: round1(p.step.t - w.t - (w.causeResolutionMs ?? 0) / 2),
        // the step somewhere in its sampling gap, the job somewhere in its clock step (both uniform); an
        // unexplained step is its own cause
        lagSdMs:
          w.jobId === undefined
            ? 0
            : round1(uniformSd(Math.hypot(p.step.gapMs ?? 0, w.causeResolutionMs ?? 0))),
      });
    }
    for (const th of r.thermal) {
      const target = thermal[th.target] as ThermalTarget;
      if (target.required) expected++;
      if (!th.result || !th.anchor) continue;
      if (target.required) found++;
      end = Math.max(end, th.result.onsetT);
      chain.push({
        role: target.role,
        path: topo.pathOf(th.asset) ?? { site, asset: th.asset },
        metric: target.metric,
        timeNs: timeNsFromMs(th.result.onsetT),
        magnitude: round3(th.result.rise),
        unit: 'Cel',
        lagMs: round1(th.result.delayMs),
        lagSdMs: round1(th.result.sdMs ?? 0),
      });
    }
  }
  const racks = w.racks.map((r) => r.rack).join(', ');
  const label =
    w.jobId !== undefined
      ? `job ${w.jobId} on ${racks}`
      : `rack ${racks}: power rose ${Math.round(w.racks[0]?.power[0]?.step?.dp ?? 0)} W with no job started on it`;
  return {
    id: w.id,
    kind: w.kind,
    startNs: timeNsFromMs(w.t),
    endNs: timeNsFromMs(end),
    chain,
    confidence: expected ? found / expected : 0,
    summary: `${label}: ${found} of ${expected} expected responses seen`,
    path: w.racks[0]?.path ?? { site },
  };
}

/** A thermal rise the load does not explain. */
export function thermalIncident(
  kind: string,
  asset: string,
  metric: string,
  onsetT: number,
  rise: number,
  detectedT: number,
  topo: Topology,
  site: string,
): busway.v1.IIncident {
  const path = topo.pathOf(asset) ?? { site, asset };
  return {
    id: `${kind}:${asset}:${Math.round(onsetT)}`,
    kind,
    startNs: timeNsFromMs(onsetT),
    endNs: timeNsFromMs(detectedT),
    chain: [
      {
        role: 'thermal-response',
        path,
        metric,
        timeNs: timeNsFromMs(onsetT),
        magnitude: round3(rise),
        unit: 'Cel',
        lagMs: 0,
      },
    ],
    confidence: 1,
    summary: `${asset} ${metric} rose ${rise.toFixed(2)} Cel more than its load explains`,
    path,
  };
}

/** A grid signal and the facility load's answer (or its absence: confidence 0). */
export function gridIncident(g: GridWindow, kind: string, site: string): busway.v1.IIncident {
  const chain: busway.v1.IIncidentLink[] = [
    {
      role: 'cause',
      eventId: g.eventId,
      metric: `grid.${g.signalType || 'signal'}`,
      timeNs: timeNsFromMs(g.start),
      magnitude: g.value,
      unit: g.unit,
      lagMs: 0,
    },
  ];
  if (g.result)
    chain.push({
      role: 'load-response',
      path: { site },
      metric: 'power.active',
      timeNs: timeNsFromMs(g.result.t),
      magnitude: Math.round(g.result.magnitude),
      unit: 'W',
      lagMs: round1(g.result.t - g.start),
      // the load crossed somewhere between the last facility reading inside the threshold and the first beyond it
      lagSdMs: round1(uniformSd((g.runStart ?? g.start) - Math.max(g.start, g.runPrev ?? g.start))),
    });
  return {
    id: g.id,
    kind,
    startNs: timeNsFromMs(g.start),
    endNs: timeNsFromMs(g.result?.t ?? g.end),
    chain,
    confidence: g.result ? 1 : 0,
    summary: g.result
      ? `grid ${g.signalType} (${g.program}): facility load${g.partial ? " (this partition's meters)" : ''} changed ${Math.round(g.result.magnitude)} W after ${Math.round(g.result.t - g.start)} ms`
      : `grid ${g.signalType} (${g.program}): no facility load response within the window`,
    path: { site },
  };
}

const round1 = (x: number) => Math.round(x * 10) / 10;
const round3 = (x: number) => Math.round(x * 1000) / 1000;

export { powerTargetsOf };
