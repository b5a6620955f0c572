import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ContractViolation } from '@busway/runtime';
import { SlurmRestServer } from '@busway/simulator';
import { decodeSlurmJob, gpusOf } from './slurm-decode.js';
import { readJobsResponse } from './slurm-poller.js';

const noVal = (n?: number) =>
  n === undefined ? { set: false, infinite: false, number: 0 } : { set: true, infinite: false, number: n };

describe('Slurm job decoding', () => {
  it('reads a running v0.0.41 job as slurmrestd renders it: expanded nodes, GPUs from TRES, times in ms', async () => {
    const server = await SlurmRestServer.start();
    try {
      const id = server.submit({ name: 'llm', gpusPerNode: 8 }, 1_700_000_000_400);
      server.start(id, ['gpu01', 'gpu02', 'gpu03', 'gpu07'], 1_700_000_010_900);
      const view = decodeSlurmJob(server.render(server.jobs.get(id) as never));
      assert.deepEqual(view, {
        key: String(id),
        jobId: String(id),
        run: '0',
        phase: 'started',
        nodes: ['gpu01', 'gpu02', 'gpu03', 'gpu07'],
        gpus: 32,
        submitMs: 1_700_000_000_000,
        startMs: 1_700_000_010_000,
        endMs: undefined,
      });
    } finally {
      await server.close();
    }
  });

  it('maps base states and flags to phases, and reads older plain numbers and state strings', () => {
    const job = (job_state: unknown, extra: Record<string, unknown> = {}) =>
      decodeSlurmJob({ job_id: 7, job_state, ...extra });
    assert.equal(job(['PENDING']).phase, 'queued');
    assert.equal(job(['RUNNING', 'CONFIGURING']).phase, 'configuring');
    assert.equal(job(['COMPLETED', 'COMPLETING']).phase, 'ended');
    assert.equal(job(['TIMEOUT']).phase, 'failed');
    assert.equal(job(['NODE_FAIL']).phase, 'failed');
    assert.equal(job(['OUT_OF_MEMORY']).phase, 'failed');
    assert.equal(job(['CANCELLED']).phase, 'cancelled');
    assert.equal(job(['PREEMPTED']).phase, 'cancelled');
    assert.equal(job(['SUSPENDED']).phase, 'suspended');
    const old = job('RUNNING', { start_time: 1_700_000_000, end_time: 0, nodes: 'cn[1-2]' });
    assert.equal(old.startMs, 1_700_000_000_000);
    assert.equal(old.endMs, undefined);
    assert.deepEqual(old.nodes, ['cn1', 'cn2']);
    assert.equal(job(['RUNNING'], { start_time: noVal(undefined) }).startMs, undefined);
  });

  it('names array tasks and requeued runs apart', () => {
    const v = decodeSlurmJob({
      job_id: 1236,
      job_state: ['RUNNING'],
      array_job_id: noVal(1234),
      array_task_id: noVal(2),
      restart_cnt: 3,
    });
    assert.equal(v.jobId, '1234_2');
    assert.equal(v.key, '1236');
    assert.equal(v.run, '3');
  });

  it('counts GPUs from the untyped TRES total, else typed TRES, else the GRES detail', () => {
    assert.equal(gpusOf('cpu=64,mem=500G,node=2,billing=64,gres/gpu=16,gres/gpu:h100=16'), 16);
    assert.equal(gpusOf('cpu=8,gres/gpu:a100=2,gres/gpu:h100=4'), 6);
    assert.equal(gpusOf('', ['gpu:h100:8(IDX:0-7)', 'gpu:h100:4(IDX:0-3)']), 12);
    assert.equal(gpusOf('cpu=4', ['gpu:2', 'tmpdisk:100']), 2);
    assert.equal(gpusOf(undefined), 0);
  });

  it('refuses an object that is not a job, or a state or host list it cannot read, with a ContractViolation', () => {
    for (const bad of [
      null,
      5,
      {},
      { job_id: -1, job_state: ['RUNNING'] },
      { job_id: 1, job_state: ['DANCING'] },
      { job_id: 1, job_state: ['RUNNING'], nodes: 'gpu[1-' },
    ])
      assert.throws(() => decodeSlurmJob(bad), ContractViolation, JSON.stringify(bad));
  });

  it('never throws anything but a ContractViolation on random job-like objects', () => {
    const noValArb = fc.oneof(
      fc.integer(),
      fc.record({ set: fc.boolean(), infinite: fc.boolean(), number: fc.integer() }),
      fc.anything(),
    );
    const obj = fc.record(
      {
        job_id: fc.oneof(fc.nat(), fc.integer(), fc.string(), fc.double()),
        job_state: fc.oneof(
          fc.array(fc.constantFrom('PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'CONFIGURING', 'X')),
          fc.string(),
          fc.anything(),
        ),
        nodes: fc.oneof(
          fc.string({ maxLength: 20 }),
          fc.stringMatching(/^[a-z]{1,3}\[[0-9,-]{0,8}\]$/),
          fc.anything(),
        ),
        start_time: noValArb,
        end_time: noValArb,
        tres_alloc_str: fc.oneof(fc.string(), fc.anything()),
        gres_detail: fc.oneof(fc.array(fc.string()), fc.anything()),
        restart_cnt: fc.oneof(fc.nat(), fc.anything()),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(obj, fc.anything()), (raw) => {
        try {
          const v = decodeSlurmJob(raw);
          assert.ok(Number.isInteger(v.gpus) && v.gpus >= 0);
          assert.ok(v.key.length > 0);
        } catch (err) {
          assert.ok(err instanceof ContractViolation, String(err));
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('reads slurmrestd answers: jobs, last_update, and "no job changes"', () => {
    const a = readJobsResponse({
      jobs: [],
      last_update: noVal(1700),
      warnings: [{ description: 'No job changes since update_time=1699' }],
      errors: [],
    });
    assert.deepEqual(a, { jobs: [], lastUpdateS: 1700, noChange: true, errors: [] });
    const b = readJobsResponse({ jobs: [{ job_id: 1 }], last_update: 1701, errors: [{ error: 'boom' }] });
    assert.equal(b.noChange, false);
    assert.deepEqual(b.errors, ['boom']);
    assert.throws(() => readJobsResponse({ nope: true }), /no jobs list/);
  });
});
