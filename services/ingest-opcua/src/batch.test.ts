import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { busway, Long } from '@busway/proto';
import { batchIdOf, MAX_SAMPLES_PER_BATCH, pendingBatchesOf, pendingBatchOf } from './batch.js';

const sampleArb = fc.record({
  pointId: fc.constantFrom('opcua:e:a', 'opcua:e:b'),
  doubleValue: fc.double({ noNaN: true }),
  eventTimeNs: fc.bigInt({ min: 0n, max: 2n ** 63n }).map((n) => Long.fromString(n.toString(), true)),
  quality: fc.constantFrom(1, 2, 3),
});

describe('OPC UA batches and their ids', () => {
  it('are equal for the same content, and differ when a time, value or quality differs', () => {
    fc.assert(
      fc.property(fc.array(sampleArb, { minLength: 1, maxLength: 6 }), fc.nat(), (samples, pick) => {
        const copy = samples.map((s) => ({ ...s }));
        assert.equal(batchIdOf('e', samples), batchIdOf('e', copy));
        assert.notEqual(batchIdOf('e', samples), batchIdOf('other', copy));
        const i = pick % samples.length;
        const at = samples[i];
        if (!at) return;
        const later = copy.map((s, j) => (j === i ? { ...s, eventTimeNs: at.eventTimeNs.add(1) } : s));
        assert.notEqual(batchIdOf('e', samples), batchIdOf('e', later));
        const bad = copy.map((s, j) => (j === i ? { ...s, quality: (at.quality % 3) + 1 } : s));
        assert.notEqual(batchIdOf('e', samples), batchIdOf('e', bad));
      }),
    );
  });

  it('encodes a batch with its source once, and counts the dead letters in its bytes', () => {
    const endpoint = { id: 'cdu-1', url: 'opc.tcp://plc:4840' };
    const b = pendingBatchOf(
      endpoint,
      [{ pointId: 'opcua:cdu-1:a', doubleValue: 1 }],
      [
        {
          pointId: 'x',
          nodeId: 'ns=1;s=x',
          eventTimeNs: Long.UZERO,
          message: 'm',
          payload: new Uint8Array(10),
        },
      ],
    );
    const decoded = busway.v1.SampleBatch.decode(b.data ?? new Uint8Array());
    assert.equal(decoded.samples[0]?.doubleValue, 1);
    assert.deepEqual({ ...decoded.source }, { protocol: 'opcua', address: endpoint.url, sourceId: 'cdu-1' });
    assert.equal(b.bytes, (b.data?.length ?? 0) + 10);
    assert.match(b.id, /^opcua:cdu-1:[A-Za-z0-9_-]{22}$/);
    assert.equal(
      pendingBatchOf(endpoint, [], []).data,
      undefined,
      'nothing to publish when every value was rejected',
    );
  });

  it('splits a large publish response into batches NATS accepts, the dead letters riding with the first', () => {
    const endpoint = { id: 'cdu-1', url: 'opc.tcp://plc:4840' };
    const samples = Array.from({ length: 2 * MAX_SAMPLES_PER_BATCH + 500 }, (_, i) => ({
      pointId: `opcua:cdu-1:p${i}`,
      doubleValue: i,
    }));
    const reject = {
      pointId: 'x',
      nodeId: 'ns=1;s=x',
      eventTimeNs: Long.UZERO,
      message: 'm',
      payload: new Uint8Array(4),
    };
    const batches = pendingBatchesOf(endpoint, samples, [reject]);
    assert.deepEqual(
      batches.map((b) => [b.samples, b.rejects.length]),
      [
        [MAX_SAMPLES_PER_BATCH, 1],
        [MAX_SAMPLES_PER_BATCH, 0],
        [500, 0],
      ],
    );
    assert.ok(batches.every((b) => (b.data?.length ?? 0) < 512 * 1024));
    assert.equal(new Set(batches.map((b) => b.id)).size, 3);
    const decoded = batches.flatMap((b) => busway.v1.SampleBatch.decode(b.data ?? new Uint8Array()).samples);
    assert.deepEqual(
      decoded.map((s) => s.doubleValue),
      samples.map((s) => s.doubleValue),
    );
    assert.deepEqual(
      pendingBatchesOf(endpoint, [], [reject]).map((b) => [b.data, b.rejects.length]),
      [[undefined, 1]],
    );
  });
});
