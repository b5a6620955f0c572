import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ContractViolation } from '@busway/runtime';
import { bindPod, finishPod, newPod, runPod } from '@busway/simulator';
import { decodePod, resourceVersionOf } from './kube-decode.js';

const T0 = Date.parse('2026-03-01T10:00:00Z');

describe('Kubernetes pod decoding', () => {
  it('reads a pod through its life: queued, bound, running on its node, succeeded, deleted', () => {
    const pod = newPod({ name: 'llm-0', namespace: 'training', gpus: 8, jobName: 'llm', createdMs: T0 });
    pod.metadata.uid = '6f0c2a5e-1d1b-4d3e-9a4f-0c8f3e2b7a11';
    const queued = decodePod(pod, 'nvidia.com/gpu');
    assert.deepEqual(
      {
        phase: queued.phase,
        nodes: queued.nodes,
        gpus: queued.gpus,
        jobId: queued.jobId,
        submitMs: queued.submitMs,
      },
      { phase: 'queued', nodes: [], gpus: 8, jobId: 'training/llm-0', submitMs: T0 },
    );
    bindPod(pod, 'gpu07', T0 + 2000);
    assert.equal(decodePod(pod, 'nvidia.com/gpu').phase, 'queued', 'bound but not running is still queued');
    runPod(pod, T0 + 9000);
    const running = decodePod(pod, 'nvidia.com/gpu');
    assert.deepEqual([running.phase, running.nodes, running.startMs], ['started', ['gpu07'], T0 + 9000]);
    finishPod(pod, 'Succeeded', T0 + 60_000);
    const done = decodePod(pod, 'nvidia.com/gpu');
    assert.deepEqual([done.phase, done.startMs, done.endMs], ['ended', T0 + 9000, T0 + 60_000]);
    pod.metadata.deletionTimestamp = '2026-03-01T10:02:00Z';
    assert.equal(decodePod(pod, 'nvidia.com/gpu', true).deletedMs, T0 + 120_000);
  });

  it('counts GPUs from requests or limits, summing app containers and taking the largest init container', () => {
    const pod = newPod({ name: 'p', gpus: 2 });
    pod.metadata.uid = 'u1';
    pod.spec.containers.push({ name: 'side', image: 'x', resources: { limits: { 'nvidia.com/gpu': '1' } } });
    (pod.spec as Record<string, unknown>).initContainers = [
      { name: 'init', resources: { requests: { 'nvidia.com/gpu': '4' } } },
    ];
    assert.equal(decodePod(pod, 'nvidia.com/gpu').gpus, 4);
    assert.equal(decodePod(pod, 'amd.com/gpu').gpus, 0);
    pod.spec.containers[1] = {
      name: 'side',
      image: 'x',
      resources: { limits: { 'nvidia.com/gpu': '500m' } },
    };
    assert.throws(() => decodePod(pod, 'nvidia.com/gpu'), /'500m' is not a whole number of GPUs/);
  });

  it('finds the resourceVersion of any watch object', () => {
    assert.equal(resourceVersionOf({ metadata: { resourceVersion: '123' } }), '123');
    assert.equal(resourceVersionOf({ kind: 'Status' }), undefined);
    assert.equal(resourceVersionOf(null), undefined);
  });

  it('never throws anything but a ContractViolation on random pod-like objects', () => {
    const time = fc.oneof(
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      fc.string(),
      fc.anything(),
    );
    const quantity = fc.oneof(fc.nat().map(String), fc.nat(), fc.string(), fc.double(), fc.anything());
    const pod = fc.record(
      {
        metadata: fc.record(
          {
            name: fc.string(),
            namespace: fc.string(),
            uid: fc.oneof(fc.uuid(), fc.string()),
            creationTimestamp: time,
            deletionTimestamp: time,
          },
          { requiredKeys: [] },
        ),
        spec: fc.record(
          {
            nodeName: fc.oneof(fc.string(), fc.anything()),
            containers: fc.oneof(
              fc.array(
                fc.record(
                  {
                    name: fc.string(),
                    resources: fc.record(
                      {
                        requests: fc.dictionary(fc.constantFrom('nvidia.com/gpu', 'cpu'), quantity),
                        limits: fc.dictionary(fc.constantFrom('nvidia.com/gpu'), quantity),
                      },
                      { requiredKeys: [] },
                    ),
                  },
                  { requiredKeys: [] },
                ),
              ),
              fc.anything(),
            ),
          },
          { requiredKeys: [] },
        ),
        status: fc.record(
          {
            phase: fc.oneof(
              fc.constantFrom('Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'),
              fc.string(),
            ),
            startTime: time,
            containerStatuses: fc.array(
              fc.record({
                state: fc.record(
                  {
                    running: fc.record({ startedAt: time }),
                    terminated: fc.record({ startedAt: time, finishedAt: time }),
                  },
                  { requiredKeys: [] },
                ),
              }),
            ),
          },
          { requiredKeys: [] },
        ),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(pod, fc.anything()), fc.boolean(), (raw, deleted) => {
        try {
          const v = decodePod(raw, 'nvidia.com/gpu', deleted);
          assert.ok(Number.isSafeInteger(v.gpus) && v.gpus >= 0);
          assert.ok(v.nodes.length <= 1);
          for (const t of [v.submitMs, v.startMs, v.endMs, v.deletedMs])
            assert.ok(t === undefined || Number.isFinite(t));
        } catch (err) {
          assert.ok(err instanceof ContractViolation, String(err));
        }
      }),
      { numRuns: 3000 },
    );
  });
});
