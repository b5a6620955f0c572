import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { firstSlurmIdOf } from './it-apis.js';

// Slurm's default MaxJobId: job ids stay below it
const MAX_JOB_ID = 67_043_328;

describe('the simulated slurmctld’s job numbering', () => {
  it('gives a run started later ids after every id of an earlier run making ten jobs a second', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2040, 0, 1) }),
        fc.integer({ min: 100, max: 3_600_000 }),
        (startMs, runMs) => {
          const earlier = firstSlurmIdOf(startMs);
          const later = firstSlurmIdOf(startMs + runMs);
          const earlierLast = earlier + Math.floor((runMs / 1000) * 10) - 1;
          // the numbering starts again from 1 every 69 days, as a counter near its maximum would
          if (later < earlier) return;
          assert.ok(later > earlierLast, `${later} after ${earlierLast}`);
        },
      ),
    );
  });

  it('keeps ids within Slurm’s maximum', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Date.UTC(2100, 0, 1) }), (t) => {
        const id = firstSlurmIdOf(t);
        assert.ok(id >= 1 && id + 100_000 < MAX_JOB_ID, String(id));
      }),
    );
  });
});
