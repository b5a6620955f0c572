import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { busway } from '@busway/proto';
import { stepsFor, vanishedStep, type JobRecord, type JobView, type ViewPhase } from './lifecycle.js';

const P = busway.v1.JobPhase;
const view = (v: Partial<JobView>): JobView => ({
  key: '42',
  jobId: '42',
  run: '0',
  phase: 'queued',
  nodes: [],
  gpus: 0,
  submitMs: 1000,
  ...v,
});
const names = (r: { steps: { name: string }[] }) => r.steps.map((s) => s.name);

describe('job lifecycle steps', () => {
  it("publishes each phase once, in order, at the scheduler's times", () => {
    const q = stepsFor(view({}), undefined, true);
    assert.deepEqual(q.steps, [{ phase: P.JOB_PHASE_QUEUED, timeMs: 1000, name: 'queued' }]);
    const s = stepsFor(
      view({ phase: 'started', nodes: ['a', 'b'], gpus: 16, startMs: 5000 }),
      q.record,
      true,
    );
    assert.deepEqual(s.steps, [{ phase: P.JOB_PHASE_STARTED, timeMs: 5000, name: 'started' }]);
    assert.deepEqual(s.record.nodes, ['a', 'b']);
    assert.deepEqual(
      names(stepsFor(view({ phase: 'started', nodes: ['a', 'b'], startMs: 5000 }), s.record, true)),
      [],
    );
    const e = stepsFor(
      view({ phase: 'failed', nodes: ['a', 'b'], startMs: 5000, endMs: 9000 }),
      s.record,
      true,
    );
    assert.deepEqual(e.steps, [{ phase: P.JOB_PHASE_FAILED, timeMs: 9000, name: 'failed' }]);
    assert.deepEqual(
      names(stepsFor(view({ phase: 'ended', nodes: ['a'], startMs: 5000, endMs: 9999 }), e.record, true)),
      [],
    );
  });

  it('gives a job first seen after its end its STARTED too, and a job cancelled in the queue none', () => {
    assert.deepEqual(
      names(stepsFor(view({ phase: 'ended', nodes: ['a'], startMs: 5, endMs: 9 }), undefined, true)),
      ['started', 'ended'],
    );
    assert.deepEqual(names(stepsFor(view({ phase: 'cancelled', startMs: 9, endMs: 9 }), undefined, true)), [
      'cancelled',
    ]);
    assert.deepEqual(
      names(stepsFor(view({ phase: 'configuring', nodes: ['a'], startMs: 5 }), undefined, false)),
      [],
    );
  });

  it('cancels a deleted job that had not ended, and starts over on a new run', () => {
    const running = stepsFor(view({ phase: 'started', nodes: ['a'], startMs: 5 }), undefined, true).record;
    const del = stepsFor(view({ phase: 'started', nodes: ['a'], startMs: 5, deletedMs: 77 }), running, true);
    assert.deepEqual(del.steps, [{ phase: P.JOB_PHASE_CANCELLED, timeMs: 77, name: 'cancelled' }]);
    const requeued = stepsFor(view({ run: '1', phase: 'queued', submitMs: 80 }), del.record, true);
    assert.deepEqual(names(requeued), ['queued']);
    assert.equal(requeued.record.final, undefined);
  });

  it('infers an end for a job that vanished: ENDED if it ran, CANCELLED if it never did', () => {
    const rec = (r: Partial<JobRecord>): JobRecord => ({ run: '0', jobId: '1', nodes: [], gpus: 0, ...r });
    assert.equal(vanishedStep(rec({ started: true }))?.phase, P.JOB_PHASE_ENDED);
    assert.equal(vanishedStep(rec({ queued: true }))?.phase, P.JOB_PHASE_CANCELLED);
    assert.equal(vanishedStep(rec({ started: true, final: 'ended' })), undefined);
    assert.equal(vanishedStep(rec({ started: true }))?.inferred, true);
  });

  it('over any sequence of views, publishes at most one of each phase per run, in lifecycle order', () => {
    const phases: ViewPhase[] = [
      'queued',
      'configuring',
      'started',
      'suspended',
      'ended',
      'failed',
      'cancelled',
      'unknown',
    ];
    const anyView = fc.record({
      run: fc.constantFrom('0', '1'),
      phase: fc.constantFrom(...phases),
      nodes: fc.array(fc.constantFrom('a', 'b'), { maxLength: 2 }),
      startMs: fc.option(fc.nat(), { nil: undefined }),
      endMs: fc.option(fc.nat(), { nil: undefined }),
      deletedMs: fc.option(fc.nat(), { nil: undefined }),
    });
    const order = ['queued', 'started', 'final'];
    fc.assert(
      fc.property(fc.array(anyView, { maxLength: 12 }), fc.boolean(), (views, emitQueued) => {
        let record: JobRecord | undefined;
        const published = new Map<string, string[]>();
        // a run never comes back: Slurm's restart count only grows
        for (const v of [...views].sort((a, b) => Number(a.run) - Number(b.run))) {
          const r = stepsFor(view(v), record, emitQueued);
          record = r.record;
          const list = published.get(v.run) ?? [];
          for (const s of r.steps)
            list.push(['ended', 'failed', 'cancelled'].includes(s.name) ? 'final' : s.name);
          published.set(v.run, list);
        }
        for (const list of published.values()) {
          const ranks = list.map((n) => order.indexOf(n));
          assert.deepEqual(ranks, [...new Set(ranks)].sort(), `one of each, in order: ${list.join(',')}`);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
