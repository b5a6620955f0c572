import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { compressHostlist } from '@busway/simulator';
import { expandHostlist, HostlistError, MAX_HOSTS } from './hostlist.js';

describe('Slurm host list expansion', () => {
  it("expands ranges, lists, zero padding, several brackets and plain names, in Slurm's order", () => {
    assert.deepEqual(expandHostlist('gpu[01-04,07]'), ['gpu01', 'gpu02', 'gpu03', 'gpu04', 'gpu07']);
    assert.deepEqual(expandHostlist('gpu[8-11],login1'), ['gpu8', 'gpu9', 'gpu10', 'gpu11', 'login1']);
    assert.deepEqual(expandHostlist('rack[1-2]-n[1-2]'), ['rack1-n1', 'rack1-n2', 'rack2-n1', 'rack2-n2']);
    assert.deepEqual(expandHostlist('node-r1-01-[1-4]'), [
      'node-r1-01-1',
      'node-r1-01-2',
      'node-r1-01-3',
      'node-r1-01-4',
    ]);
    assert.deepEqual(expandHostlist('a[098-101]'), ['a098', 'a099', 'a100', 'a101']);
    assert.deepEqual(expandHostlist('x[1-2]y,x1y'), ['x1y', 'x2y'], 'a repeated host counts once');
    assert.deepEqual(expandHostlist(''), []);
    assert.deepEqual(expandHostlist('a b,c'), ['a', 'b', 'c']);
  });

  it('refuses broken lists with a HostlistError that names the list', () => {
    for (const bad of [
      'gpu[01-04',
      'gpu01-04]',
      'gpu[4-1]',
      'gpu[a-b]',
      'gpu[]',
      'gpu[[1]]',
      'gpu[1,,2]',
      `n[1-${MAX_HOSTS + 1}]`,
      'a[1-300]b[1-300]',
    ])
      assert.throws(
        () => expandHostlist(bad),
        (err: unknown) => err instanceof HostlistError && err.message.includes(bad),
        bad,
      );
  });

  it('expands what the simulated slurmctld compresses back to the same hosts', () => {
    const host = fc.oneof(
      fc
        .tuple(
          fc.constantFrom('gpu', 'node-r1-0', 'cn', 'a-b'),
          fc.integer({ min: 0, max: 300 }),
          fc.constantFrom(0, 2, 3),
        )
        .map(([p, n, w]) => `${p}${String(n).padStart(w, '0')}`),
      fc.stringMatching(/^[a-z][a-z-]{0,6}$/),
    );
    fc.assert(
      fc.property(fc.uniqueArray(host, { maxLength: 40 }), (hosts) => {
        const back = expandHostlist(compressHostlist(hosts));
        assert.deepEqual([...back].sort(), [...hosts].sort());
      }),
      { numRuns: 1000 },
    );
  });

  it('never throws anything but a HostlistError on arbitrary text, and never returns more than the limit', () => {
    const text = fc.oneof(fc.string({ maxLength: 40 }), fc.stringMatching(/^[a-z0-9[\],\- ]{0,40}$/));
    fc.assert(
      fc.property(text, (list) => {
        try {
          const hosts = expandHostlist(list);
          assert.ok(hosts.length <= MAX_HOSTS);
          assert.equal(new Set(hosts).size, hosts.length);
        } catch (err) {
          assert.ok(err instanceof HostlistError, String(err));
        }
      }),
      { numRuns: 3000 },
    );
  });
});
