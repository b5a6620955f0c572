import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  fnv1a32,
  natsPartitionConfig,
  natsPartitionMappings,
  ordinalOf,
  ownedPartitions,
  parseNormSubject,
  partitionFilter,
  partitionOf,
} from './partitioning.js';

describe('partitioning', () => {
  it('computes the partition nats-server 2.9.10 assigned to these rows (recorded from a real server)', () => {
    // norm.v1.samples.ai1.h1.<row>.rack-x with {{partition(4,1,2,3)}}: r1 -> 0, r2 -> 1, r3 -> 2, r4 -> 3, r5 -> 0
    assert.deepEqual(
      ['r1', 'r2', 'r3', 'r4', 'r5'].map((row) => partitionOf(['ai1', 'h1', row, 'rack-x'], 4, 'row')),
      [0, 1, 2, 3, 0],
    );
    assert.equal(fnv1a32(''), 0x811c9dc5);
    assert.equal(fnv1a32('a'), 0xe40c292c, 'the published FNV-1a test vector');
  });

  it('generates the server mapping for a partition count, and none for one partition', () => {
    assert.deepEqual(natsPartitionMappings(1), {});
    assert.equal(natsPartitionConfig(1), '');
    assert.deepEqual(natsPartitionMappings(8, 'hall'), {
      'norm.v1.samples.*.*.*.*':
        'norm.v1.samples.{{wildcard(1)}}.{{wildcard(2)}}.{{wildcard(3)}}.{{wildcard(4)}}.{{partition(8,1,2)}}',
    });
    assert.match(
      natsPartitionConfig(4),
      /^# busway correlator: 4 partitions by row\nmappings = \{\n {2}"norm\.v1\.samples\.\*\.\*\.\*\.\*": "norm\.v1\.samples\..*\{\{partition\(4,1,2,3\)\}\}"\n\}\n$/,
    );
    assert.throws(() => natsPartitionMappings(0), RangeError);
  });

  it('gives every partition exactly one replica', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 }),
        fc.integer({ min: 1, max: 16 }),
        (partitions, replicas) => {
          const owners = Array.from({ length: replicas }, (_, i) =>
            ownedPartitions(partitions, replicas, i),
          ).flat();
          assert.deepEqual(
            owners.sort((a, b) => a - b),
            Array.from({ length: partitions }, (_, p) => p),
          );
        },
      ),
    );
  });

  it('keeps every rack of a row in the row partition, whatever the names', () => {
    fc.assert(
      fc.property(
        fc.array(fc.stringMatching(/^[a-z0-9-]{1,12}$/), { minLength: 4, maxLength: 4 }),
        fc.stringMatching(/^[a-z0-9-]{1,12}$/),
        fc.integer({ min: 1, max: 32 }),
        (tokens, otherRack, n) => {
          const p = partitionOf(tokens, n, 'row');
          assert.ok(p >= 0 && p < n);
          assert.equal(partitionOf([tokens[0]!, tokens[1]!, tokens[2]!, otherRack], n, 'row'), p);
        },
      ),
    );
  });

  it('reads a NORM subject with or without the partition suffix', () => {
    assert.deepEqual(parseNormSubject('norm.v1.samples.ai1.h1.r1.rack-1'), {
      tokens: ['ai1', 'h1', 'r1', 'rack-1'],
    });
    assert.deepEqual(parseNormSubject('norm.v1.samples.ai1.h1.r1.rack-1.3'), {
      tokens: ['ai1', 'h1', 'r1', 'rack-1'],
      partition: 3,
    });
    assert.equal(parseNormSubject('norm.v1.events.job'), undefined);
    assert.equal(partitionFilter(0, 1), 'norm.v1.samples.>');
    assert.equal(partitionFilter(2, 4), 'norm.v1.samples.*.*.*.*.2');
  });

  it('takes the replica index from a StatefulSet pod name', () => {
    assert.equal(ordinalOf('busway-correlator-2'), 2);
    assert.equal(ordinalOf('laptop'), undefined);
    assert.equal(ordinalOf(undefined), undefined);
  });
});
