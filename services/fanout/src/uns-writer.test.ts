import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { busway, timeNsFromMs, unsSubject } from '@busway/proto';
import { decodeWireSample, wireSampleOf, type WireSample } from './sample-wire.js';
import { groupByPoint, groupsToStore, lastValueArgs, newerThanStored, unsMessageId } from './uns-writer.js';

const sampleArb = fc.record({
  asset: fc.constantFrom('cdu-1', 'cdu-2', 'pdu-1'),
  metric: fc.constantFrom('flow.coolant', 'power.active'),
  t: fc.integer({ min: 1_800_000_000_000, max: 1_800_000_100_000 }),
  v: fc.double({ noNaN: true }),
});
const toDecoded = (x: { asset: string; metric: string; t: number; v: number }): busway.v1.ISample => ({
  pointId: `p:${x.asset}:${x.metric}`,
  path: { site: 's', hall: 'h', row: 'r', rack: 'k', assetClass: x.asset.slice(0, 3), asset: x.asset },
  metric: x.metric,
  doubleValue: x.v,
  eventTimeNs: timeNsFromMs(x.t),
});
/** A sample as fan-out reads it from ORDERED. */
const toSample = (x: { asset: string; metric: string; t: number; v: number }) =>
  wireSampleOf(toDecoded(x)) as WireSample;

describe('UNS messages per point', () => {
  it('put every sample in exactly one group, on its own subject, in event-time order', () => {
    fc.assert(
      fc.property(fc.array(fc.array(sampleArb, { maxLength: 20 }), { maxLength: 10 }), (raw) => {
        const batches = raw.map((b) => b.map(toSample));
        const groups = groupByPoint(batches);
        assert.equal(
          groups.reduce((n, g) => n + g.samples.length, 0),
          batches.flat().length,
        );
        assert.equal(new Set(groups.map((g) => g.subject)).size, groups.length, 'one group per point');
        for (const g of groups) {
          for (const s of g.samples.map(decodeWireSample))
            assert.equal(unsSubject(s.path ?? {}, s.metric), g.subject);
          const times = g.samples.map((s) => s.timeNs);
          assert.deepEqual(
            times,
            [...times].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
          );
        }
      }),
    );
  });

  it('keep only samples newer than the stored last value and than each other, so each subject only grows in time', () => {
    fc.assert(
      fc.property(
        fc.array(sampleArb, { maxLength: 60 }),
        fc.option(fc.integer({ min: 1_800_000_000_000, max: 1_800_000_100_000 }), { nil: undefined }),
        (raw, storedMs) => {
          const groups = groupByPoint([raw.map(toSample)]);
          const stored = groups.map(() =>
            storedMs === undefined ? undefined : BigInt(storedMs) * 1_000_000n,
          );
          const { groups: kept, stale } = newerThanStored(groups, stored);
          let total = 0;
          for (const g of kept) {
            const times = g.samples.map((s) => s.timeNs);
            times.forEach((t, i) => {
              assert.ok(i === 0 || t > (times[i - 1] as bigint), 'strictly increasing');
              if (storedMs !== undefined) assert.ok(t > BigInt(storedMs) * 1_000_000n, 'newer than stored');
            });
            total += times.length;
          }
          // every distinct time newer than the stored one survives
          const expected = groups.reduce((n, g) => {
            const times = new Set(g.samples.map((s) => s.timeNs));
            return (
              n + [...times].filter((t) => storedMs === undefined || t > BigInt(storedMs) * 1_000_000n).length
            );
          }, 0);
          assert.equal(total, expected);
          assert.equal(total + stale, raw.length);
        },
      ),
    );
  });

  it('give a group the same id every time, and a single sample the id of its subject, point and time', () => {
    const one = toSample({ asset: 'cdu-1', metric: 'flow.coolant', t: 1_800_000_000_000, v: 1 });
    const two = toSample({ asset: 'cdu-1', metric: 'flow.coolant', t: 1_800_000_000_500, v: 2 });
    const [single] = groupByPoint([[one]]);
    assert.equal(unsMessageId(single!), `${single!.subject}|p:cdu-1:flow.coolant@1800000000000000000`);
    const [a] = groupByPoint([[two, one]]);
    const [b] = groupByPoint([[one], [two]]);
    assert.equal(unsMessageId(a!), unsMessageId(b!));
    assert.equal(
      unsMessageId(a!),
      `${a!.subject}|p:cdu-1:flow.coolant@1800000000000000000..1800000000500000000#2`,
    );
    // the same point and time on another subject (the registry re-mapped it) is another message
    const moved = { ...single!, subject: single!.subject.replace('cdu-1', 'cdu-9') };
    assert.notEqual(unsMessageId(moved), unsMessageId(single!));
  });

  it('store a redelivered sample older than the stored last value, and drop a fresh one', () => {
    const old = toSample({ asset: 'pdu-1', metric: 'power.active', t: 1_800_000_000_000, v: 1 });
    const storedNs = [1_800_000_005_000_000_000n]; // a newer batch reached UNS while the old one was in flight
    const fresh = groupsToStore(groupByPoint([[old]]), storedNs, []);
    const again = groupsToStore([], [], groupByPoint([[old]]));
    assert.deepEqual([fresh.groups.length, fresh.stale], [0, 1]);
    assert.deepEqual(
      again.groups.map((g) => g.samples.length),
      [1],
    );
  });

  it('write the newest sample of a point as its last value, with its time in nanoseconds', () => {
    const s = toDecoded({ asset: 'pdu-1', metric: 'power.active', t: 1_800_000_000_000, v: 5200 });
    const args = lastValueArgs({ ...s, unit: 'W', quality: busway.v1.Quality.QUALITY_GOOD });
    assert.equal(args[0], '1800000000000000000');
    assert.deepEqual(args.slice(1, 7), ['value', '5200', 'type', 'double', 'unit', 'W']);
    assert.equal(args[args.indexOf('quality') + 1], 'good');
  });

  it('write a reading without a value as type null, and an empty string as a string', () => {
    const s = toDecoded({ asset: 'pdu-1', metric: 'power.active', t: 1_800_000_000_000, v: 0 });
    const none = lastValueArgs({ ...s, doubleValue: null, quality: busway.v1.Quality.QUALITY_BAD });
    const empty = lastValueArgs({ ...s, doubleValue: null, stringValue: '' });
    assert.deepEqual(none.slice(1, 5), ['value', '', 'type', 'null']);
    assert.deepEqual(empty.slice(1, 5), ['value', '', 'type', 'string']);
  });
});
