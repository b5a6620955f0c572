// Every fault scenario, in the order the full run takes them; `quick` ones also run in the normal test suite.
import { killWorker, mqttRestart, natsNodeKill, redisRestart, stallWorker } from './process-faults.js';
import { poison } from './poison.js';
import type { Scenario } from './scenario.js';
import { clockSkew } from './skew.js';
import { FLOW_WORKERS } from './stack.js';

export function allScenarios(): Scenario[] {
  return [
    natsNodeKill(),
    ...FLOW_WORKERS.map((w) => killWorker(w, w === 'normalizer')),
    redisRestart(),
    mqttRestart(),
    stallWorker('fanout'),
    stallWorker('anomaly'),
    poison(),
    clockSkew(),
  ];
}

/** The scenarios named (all when none), failing on a name that does not exist. */
export function selectScenarios(names: readonly string[] = [], quickOnly = false): Scenario[] {
  const all = allScenarios();
  const unknown = names.filter((n) => !all.some((s) => s.name === n));
  if (unknown.length > 0)
    throw new Error(
      `no fault scenario ${unknown.join(', ')}; there are: ${all.map((s) => s.name).join(', ')}`,
    );
  return all.filter((s) => (names.length === 0 || names.includes(s.name)) && (!quickOnly || s.quick));
}
