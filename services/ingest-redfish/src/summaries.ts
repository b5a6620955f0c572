import { LogSummary, type Logger } from '@busway/runtime';

export const STAGE = 'ingest';
export const WORKER = 'ingest-redfish';
export const PROTOCOL = 'redfish';

/** One log line per 10 s for each kind of repeated trouble, keyed by endpoint id (dead letters by reason). */
export interface Summaries {
  failures: LogSummary;
  publishFailures: LogSummary;
  deadLetters: LogSummary;
  gaps: LogSummary;
  repeats: LogSummary;
  paused: LogSummary;
  refused: LogSummary;
  skippedPolls: LogSummary;
  readFailures: LogSummary;
}

export function createSummaries(log: Logger): Summaries {
  return {
    failures: new LogSummary(log, 'Redfish connections that failed (retried with backoff):'),
    publishFailures: new LogSummary(log, 'Redfish reports JetStream did not acknowledge (retried):'),
    deadLetters: new LogSummary(log, 'dead-lettered Redfish reports and values:'),
    gaps: new LogSummary(log, 'Redfish metric reports missed (ReportSequence gaps), by endpoint/report:'),
    repeats: new LogSummary(log, 'Redfish metric reports received again and dropped (same ReportSequence):'),
    paused: new LogSummary(log, 'Redfish SSE streams paused because JetStream was slow:'),
    refused: new LogSummary(
      log,
      'Redfish pushes answered 503 because JetStream was slow (the service retries):',
    ),
    skippedPolls: new LogSummary(log, 'Redfish polls skipped because the previous cycle was still running:'),
    readFailures: new LogSummary(log, 'Redfish poll cycles that could not reach their service:'),
  };
}

export function closeSummaries(s: Summaries): void {
  for (const summary of Object.values(s)) summary.close();
}
