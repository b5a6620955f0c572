// The verdicts every fault run must earn, whatever the fault.
import type { Ledger } from './ledger.js';
import type { ScenarioResult } from './run-scenario.js';
import type { Check } from './scenario.js';

/** What every scenario must show: per hop nothing lost or duplicated, the poison dead-lettered, every fault recovered from, memory bounded. */
export function commonChecks(
  ledger: Ledger,
  expectedDeadLetters: Record<string, number>,
  result: ScenarioResult,
  rssLimitMb: number,
): Check[] {
  const checks: Check[] = [];
  for (const h of ledger.hops) {
    checks.push({
      name: `${h.hop}: nothing lost, nothing duplicated`,
      ok: h.lost === 0 && h.duplicates === 0 && h.expected > 0,
      detail: `expected ${h.expected}, seen ${h.seen}, lost ${h.lost}${h.lostExamples.length ? ` (${h.lostExamples.join(', ')})` : ''}, duplicates ${h.duplicates}${h.duplicateExamples.length ? ` (${h.duplicateExamples.join(', ')})` : ''}`,
    });
    if (h.unexpected > 0)
      checks.push({
        name: `${h.hop}: only what the stage before produced`,
        ok: false,
        severity: 'warn',
        detail: `${h.unexpected} seen that the stage before did not have`,
      });
  }
  checks.push({
    name: 'no sample turned late (late samples go to ordered.v1.late, never to UNS)',
    ok: ledger.late === 0,
    severity: 'warn',
    detail: `${ledger.late} late${ledger.lateExamples.length ? `: ${ledger.lateExamples.join(', ')}` : ''}`,
  });
  checks.push({
    name: 'no sample scored twice',
    ok: ledger.duplicateScores === 0 && ledger.scores > 0,
    detail: `${ledger.scores} scores, ${ledger.duplicateScores} repeated`,
  });
  const want = expectedDeadLetters;
  const subjects = new Set([...Object.keys(want), ...Object.keys(result.deadLetters)]);
  const wrong = [...subjects].filter((s) => (want[s] ?? 0) !== (result.deadLetters[s] ?? 0));
  checks.push({
    name: 'dead letters: exactly the poison injected',
    ok: wrong.length === 0,
    detail:
      wrong.map((s) => `${s}: ${result.deadLetters[s] ?? 0} (expected ${want[s] ?? 0})`).join('; ') ||
      `${Object.values(result.deadLetters).reduce((a, b) => a + b, 0)} as expected`,
  });
  for (const f of result.faults)
    checks.push({
      name: `${f.name}: the ${f.watched} output recovered`,
      ok: f.recovery?.recoveryMs !== undefined,
      detail: f.recovery
        ? `recovery ${f.recovery.recoveryMs ?? 'never'} ms, lag up to ${f.recovery.maxLagMs} ms (baseline ${f.recovery.baselineLagMs} ms)`
        : 'no probes',
    });
  const over = Object.entries(result.peakRssMb).filter(([, mb]) => mb > rssLimitMb);
  checks.push({
    name: `memory bounded: every worker under ${rssLimitMb} MB RSS`,
    ok: over.length === 0,
    detail: over.map(([w, mb]) => `${w} ${mb} MB`).join(', ') || 'all under',
  });
  return checks;
}
