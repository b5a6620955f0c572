import { LogSummary, type Logger } from '@busway/runtime';

/** One log line per 10 s for each kind of repeated trouble, keyed by target id (dead letters by reason). */
export interface Summaries {
  readFailures: LogSummary;
  skippedPolls: LogSummary;
  publishFailures: LogSummary;
  deadLetters: LogSummary;
  rejectedTraps: LogSummary;
  droppedTraps: LogSummary;
}

export function createSummaries(log: Logger): Summaries {
  return {
    readFailures: new LogSummary(log, 'SNMP poll cycles that got no answer from their target:'),
    skippedPolls: new LogSummary(log, 'SNMP polls skipped because the previous cycle was still running:'),
    publishFailures: new LogSummary(log, 'SNMP sample batches JetStream did not acknowledge (retried):'),
    deadLetters: new LogSummary(log, 'dead-lettered SNMP reads and traps:'),
    rejectedTraps: new LogSummary(log, 'SNMP traps rejected (unknown community or user, bad digest):'),
    droppedTraps: new LogSummary(log, 'SNMP traps dropped because JetStream was too slow:'),
  };
}

export function closeSummaries(s: Summaries): void {
  for (const summary of Object.values(s)) summary.close();
}
