import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PointSchema } from './config.js';
import { chunksOf } from './target-poller.js';

const points = Array.from({ length: 7 }, (_, i) =>
  PointSchema.parse({ name: `p${i}`, oid: `1.3.6.1.4.1.1.${i}.0` }),
);

describe('GET requests of a target', () => {
  it('asks for every OID once, in order, at most maxOidsPerRequest per request', () => {
    assert.deepEqual(
      chunksOf(points, 3).map((c) => c.map((p) => p.name)),
      [['p0', 'p1', 'p2'], ['p3', 'p4', 'p5'], ['p6']],
    );
    assert.equal(chunksOf(points, 32).length, 1);
  });
});
