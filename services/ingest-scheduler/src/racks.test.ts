import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { busway } from '@busway/proto';
import { parseSiteModel, Registry } from '@busway/registry';
import { enrichJob } from '@busway/normalizer';
import { expandHostlist } from './hostlist.js';

const registry = new Registry(
  parseSiteModel({
    site: 'ai1',
    assets: [
      { id: 'rack-a', class: 'rack', hall: 'h1', row: 'r1', rack: 'rack-a' },
      { id: 'rack-b', class: 'rack', hall: 'h1', row: 'r2', rack: 'rack-b' },
      { id: 'gpu01', class: 'node', hall: 'h1', row: 'r1', rack: 'rack-a' },
      { id: 'gpu02', class: 'node', hall: 'h1', row: 'r1', rack: 'rack-a' },
      { id: 'gpu07', class: 'node', hall: 'h1', row: 'r2', rack: 'rack-b' },
    ],
  }),
  1,
);
const job = (nodes: string[]): busway.v1.IEvent => ({
  id: 'e',
  kind: busway.v1.EventKind.EVENT_KIND_JOB,
  job: { jobId: 'j', phase: busway.v1.JobPhase.JOB_PHASE_STARTED, nodes },
});

describe('job nodes as the schedulers name them, mapped to racks by the normalizer', () => {
  it('maps Slurm host names from an expanded host list, each rack once', () => {
    const racks = enrichJob(job(expandHostlist('gpu[01-02,07]')), registry).job?.racks?.map((r) => r.rack);
    assert.deepEqual(racks, ['rack-a', 'rack-b']);
  });

  it('maps a Kubernetes node named by its FQDN to the registry node of its short name', () => {
    const racks = enrichJob(job(['gpu07.cluster.local']), registry).job?.racks?.map((r) => r.rack);
    assert.deepEqual(racks, ['rack-b']);
  });

  it('leaves a node the registry does not know without a rack', () => {
    assert.deepEqual(enrichJob(job(['login1']), registry).job?.racks, []);
  });
});
