import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffMs, nextPollAt, PollScheduler, runPollLoop } from './poll.js';
import { createLogger, LogSummary } from './logger.js';
import { StageMetrics } from './metrics.js';

describe('poll schedule', () => {
  it('backs off from the poll interval, doubling, up to the cap', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 40].map((n) => backoffMs(n, 100, 1000)),
      [100, 200, 400, 800, 1000, 1000, 1000],
    );
    assert.equal(backoffMs(3, 1000, 500), 1000, 'never shorter than the poll interval');
  });

  it('keeps to the interval grid and skips the ticks an overrunning cycle missed', () => {
    assert.deepEqual(nextPollAt(1000, 100, 1030), { atMs: 1100, skipped: 0 });
    assert.deepEqual(nextPollAt(1000, 100, 1100), { atMs: 1100, skipped: 0 });
    assert.deepEqual(nextPollAt(1000, 100, 1101), { atMs: 1200, skipped: 1 });
    assert.deepEqual(nextPollAt(1000, 100, 1550), { atMs: 1600, skipped: 5 });
  });
});

/** A scheduler for device `d` with its own metrics and silent log; `close` stops its log summaries. */
function scheduler(pollIntervalMs: number, maxBackoffMs: number) {
  const metrics = new StageMetrics('t');
  const log = createLogger('t', 'silent');
  const summaries = { readFailures: new LogSummary(log, 'r'), skippedPolls: new LogSummary(log, 's') };
  const schedule = new PollScheduler({ id: 'd', pollIntervalMs, maxBackoffMs }, metrics, summaries, log, {
    quiet: 'quiet',
    back: 'back',
  });
  const close = () => {
    summaries.readFailures.close();
    summaries.skippedPolls.close();
  };
  return { schedule, metrics, close };
}

describe('poll scheduler', () => {
  it('backs off while a device is quiet, then returns to its grid, skipping and counting overrun ticks', async () => {
    const { schedule: s, metrics, close } = scheduler(100, 350);
    assert.equal(s.next('timeout', 0, 1000), 1100);
    assert.equal(s.next('timeout', 0, 1000), 1200);
    assert.equal(s.next('timeout', 0, 1000), 1350, 'capped at maxBackoffMs');
    assert.equal(s.next(undefined, 1000, 1050), 1100, 'answering again: back on the grid');
    assert.equal(s.next(undefined, 1100, 1420), 1500, 'a cycle that overran three ticks skips them');
    assert.equal(await metrics.value('busway_messages_total', { outcome: 'read-failed' }), 3);
    assert.equal(await metrics.value('busway_messages_total', { outcome: 'poll-skipped' }), 3);
    close();
  });
});

describe('poll loop', () => {
  it('turns a poll that throws into its failed cycle, backs off after it, and ends when a delivery is stopped', async () => {
    const { schedule, metrics, close } = scheduler(20, 1000);
    const polls: number[] = [];
    const delivered: { n: number; unreachable?: string }[] = [];
    await runPollLoop<{ n: number; unreachable?: string }>({
      signal: new AbortController().signal,
      schedule,
      poll: (started) => {
        polls.push(started);
        if (polls.length === 2) throw new Error('a bug');
        return Promise.resolve({ n: polls.length });
      },
      failed: (_started, err) => ({ n: -1, unreachable: (err as Error).message }),
      deliver: (cycle) => {
        delivered.push(cycle);
        return Promise.resolve(delivered.length < 3); // the bridge stops during the third delivery
      },
    });
    assert.deepEqual(delivered, [{ n: 1 }, { n: -1, unreachable: 'a bug' }, { n: 3 }]);
    assert.equal(polls.length, 3, 'no poll after the stopped delivery');
    assert.equal(
      await metrics.value('busway_messages_total', { outcome: 'read-failed' }),
      1,
      'the failed cycle told the schedule the device did not answer',
    );
    close();
  });
});
