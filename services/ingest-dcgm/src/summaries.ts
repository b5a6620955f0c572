import { LogSummary, type Logger } from '@busway/runtime';

/** One log line per 10 s for each kind of repeated trouble, keyed by target id (dead letters by reason). */
export interface ScrapeSummaries {
  readFailures: LogSummary;
  skippedPolls: LogSummary;
  publishFailures: LogSummary;
  deadLetters: LogSummary;
}

export function createSummaries(log: Logger): ScrapeSummaries {
  return {
    readFailures: new LogSummary(log, 'DCGM scrapes that got no exposition:'),
    skippedPolls: new LogSummary(log, 'DCGM scrapes skipped because the previous one was still running:'),
    publishFailures: new LogSummary(log, 'DCGM sample batches JetStream did not acknowledge (retried):'),
    deadLetters: new LogSummary(log, 'dead-lettered DCGM input:'),
  };
}

export function closeSummaries(s: ScrapeSummaries): void {
  for (const summary of Object.values(s)) summary.close();
}
