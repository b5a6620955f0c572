import { LogSummary, type Logger } from '@busway/runtime';

/** One log line per 10 s for each kind of repeated trouble. */
export interface Summaries {
  /** Connection attempts node-opcua retries (server down, network cut), by endpoint. */
  connectRetries: LogSummary;
  /** By error name. */
  storeRetries: LogSummary;
  /** By reason code. */
  deadLetters: LogSummary;
  /** Samples of batches dropped oldest-first while JetStream was slow or down, by endpoint. */
  dropped: LogSummary;
  /** Values rejected again while their point's first rejection is already dead-lettered, by point. */
  rejectedAgain: LogSummary;
}

export function createSummaries(log: Logger): Summaries {
  return {
    connectRetries: new LogSummary(log, 'OPC UA connection attempts failed, retrying with backoff:'),
    storeRetries: new LogSummary(
      log,
      'JetStream refused or unreachable; holding OPC UA batches and retrying:',
    ),
    deadLetters: new LogSummary(log, 'dead-lettered OPC UA values:'),
    dropped: new LogSummary(log, 'OPC UA samples dropped, oldest first, to keep the buffer bound:'),
    rejectedAgain: new LogSummary(log, 'OPC UA values rejected again (dead-lettered once per streak):'),
  };
}

export function closeSummaries(s: Summaries): void {
  for (const summary of Object.values(s)) summary.close();
}
