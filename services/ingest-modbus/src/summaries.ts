import { LogSummary, type Logger } from '@busway/runtime';

/** One log line per 10 s for each kind of repeated trouble, keyed by device id (dead letters by reason). */
export interface PollSummaries {
  readFailures: LogSummary;
  skippedPolls: LogSummary;
  publishFailures: LogSummary;
  deadLetters: LogSummary;
}

export function createSummaries(log: Logger): PollSummaries {
  return {
    readFailures: new LogSummary(log, 'Modbus poll cycles that could not reach their device:'),
    skippedPolls: new LogSummary(log, 'Modbus polls skipped because the previous cycle was still running:'),
    publishFailures: new LogSummary(log, 'Modbus sample batches JetStream did not acknowledge (retried):'),
    deadLetters: new LogSummary(log, 'dead-lettered Modbus reads:'),
  };
}

export function closeSummaries(s: PollSummaries): void {
  for (const summary of Object.values(s)) summary.close();
}
