import { LogSummary, type Logger } from '@busway/runtime';

export const STAGE = 'ingest';
export const WORKER = 'ingest-bacnet';

/** One log line per 10 s for each kind of repeated trouble, keyed by device id (dead letters by reason). */
export interface Summaries {
  readFailures: LogSummary;
  skippedPolls: LogSummary;
  publishFailures: LogSummary;
  deadLetters: LogSummary;
  covSubscribeFailures: LogSummary;
  covDropped: LogSummary;
  covUnsolicited: LogSummary;
  malformed: LogSummary;
}

export function createSummaries(log: Logger): Summaries {
  return {
    readFailures: new LogSummary(log, 'BACnet poll cycles that could not reach their device:'),
    skippedPolls: new LogSummary(log, 'BACnet polls skipped because the previous cycle was still running:'),
    publishFailures: new LogSummary(log, 'BACnet sample batches JetStream did not acknowledge (retried):'),
    deadLetters: new LogSummary(log, 'dead-lettered BACnet answers:'),
    covSubscribeFailures: new LogSummary(log, 'BACnet SubscribeCOV requests that failed (retried):'),
    covDropped: new LogSummary(
      log,
      'BACnet COV notifications dropped, oldest first, while JetStream was slow:',
    ),
    covUnsolicited: new LogSummary(log, 'BACnet COV notifications for no current subscription, by sender:'),
    malformed: new LogSummary(log, 'BACnet/IP datagrams that could not be decoded, dropped, by sender:'),
  };
}

export function closeSummaries(s: Summaries): void {
  for (const summary of Object.values(s)) summary.close();
}
