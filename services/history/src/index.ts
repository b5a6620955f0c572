// History: 1 min and 1 h rollups (min/max/sum/count per point) of ORDERED, by event time, into ROLLUP_1M/1H.
import type { WorkerModule } from '@busway/runtime';
import { HistoryConfigSchema } from './config.js';
import { startHistory } from './rollup-worker.js';

export { HistoryConfigSchema } from './config.js';
export type { HistoryConfig } from './config.js';
export { startHistory } from './rollup-worker.js';
export { Periods, fold, merge, newAggregate, rollupValue, windowStartMs } from './aggregate.js';
export type { Aggregate, Period } from './aggregate.js';
export { WindowBook } from './window-book.js';
export { CheckpointStore, EMPTY_CHECKPOINT } from './checkpoint.js';
export type { Checkpoint } from './checkpoint.js';

export const historyModule: WorkerModule<typeof HistoryConfigSchema> = {
  name: 'history',
  stage: 'history',
  description:
    'rollups: 1 min and 1 h min/max/avg/count of every numeric point, by event time, kept in JetStream',
  configSchema: HistoryConfigSchema,
  consumers: () => [], // reads ORDERED with an ordered consumer from its own checkpoint
  start: startHistory,
};
