// Offline scoring against the simulator's ground truth (tests and the bench; needs the dev dependencies).
export {
  runHarness,
  buildScenario,
  harnessCore,
  feed,
  DEFAULT_HARNESS,
  DEFAULT_ORDERING,
  START_MS,
} from './harness.js';
export type { HarnessOptions, HarnessRun, InjectedFault, Scenario, DeliveredMessage } from './harness.js';
export { scoreRun, spread, DEFAULT_SCORING } from './score.js';
export type { Calibration, Score, ScoreOptions, Spread } from './score.js';
