import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Long, nowNs, org } from '@busway/proto';
import { ContractViolation, DecodeError } from '@busway/runtime';
import { decodePayload, metricsToSamples, SpType, type MetricDef } from './decoder.js';
import { parseTopic } from './topic.js';

const Payload = org.eclipse.tahu.protobuf.Payload;
const ctx = (byAlias = new Map<number, MetricDef>()) => ({
  topic: parseTopic('spBv1.0/g/DDATA/e/d'),
  address: 'spBv1.0/g/DDATA/e/d',
  byAlias,
  byName: new Map<string, MetricDef>(),
  ingestTimeNs: nowNs(),
});

describe('Sparkplug B decoding', () => {
  it('never fails on random bytes with anything but a DecodeError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          decodePayload(bytes);
        } catch (err) {
          assert.ok(err instanceof DecodeError, `unexpected ${String(err)}`);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('carries every double, integer, boolean and string metric through with its name, unit and timestamp', () => {
    const metric = fc.oneof(
      fc.record({ datatype: fc.constant(SpType.Double), doubleValue: fc.double({ noNaN: true }) }),
      fc.record({
        datatype: fc.constant(SpType.Int32),
        intValue: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).map((v) => v >>> 0),
      }),
      fc.record({ datatype: fc.constant(SpType.Boolean), booleanValue: fc.boolean() }),
      fc.record({ datatype: fc.constant(SpType.String), stringValue: fc.string() }),
    );
    fc.assert(
      fc.property(
        fc.array(metric, { minLength: 1, maxLength: 20 }),
        fc.integer({ min: 1, max: 2 ** 42 }),
        (metrics, ts) => {
          const named = metrics.map((m, i) => ({
            ...m,
            name: `M/${i}`,
            timestamp: Long.fromNumber(ts + i, true),
            properties: { keys: ['engUnit'], values: [{ type: 12, stringValue: 'kW' }] },
          }));
          const bytes = Payload.encode({
            timestamp: Long.fromNumber(ts, true),
            seq: Long.fromNumber(0, true),
            metrics: named,
          }).finish();
          const { samples } = metricsToSamples(decodePayload(bytes), ctx());
          assert.equal(samples.length, metrics.length);
          for (const [i, s] of samples.entries()) {
            const m = metrics[i] as Record<string, unknown>;
            assert.equal(s.pointId, `sparkplug:g/e/d:M/${i}`);
            assert.equal(s.unit, 'kW');
            assert.equal(s.eventTimeNs?.toString(), (BigInt(ts + i) * 1_000_000n).toString());
            if (m.datatype === SpType.Double) assert.equal(s.doubleValue, m.doubleValue);
            if (m.datatype === SpType.Int32) assert.equal(s.intValue?.toNumber(), (m.intValue as number) | 0);
            if (m.datatype === SpType.Boolean) assert.equal(s.boolValue, m.booleanValue);
            if (m.datatype === SpType.String) assert.equal(s.stringValue, m.stringValue);
          }
        },
      ),
    );
  });

  it('resolves aliases from the birth, and rejects an alias no birth defined', () => {
    const byAlias = new Map<number, MetricDef>([
      [7, { name: 'Coolant/Flow', datatype: SpType.Double, unit: 'LPM' }],
    ]);
    const good = Payload.encode({
      metrics: [
        { alias: Long.fromNumber(7, true), timestamp: Long.fromNumber(1000, true), doubleValue: 250 },
      ],
    }).finish();
    const [s] = metricsToSamples(decodePayload(good), ctx(byAlias)).samples;
    assert.equal(s?.pointId, 'sparkplug:g/e/d:Coolant/Flow');
    assert.equal(s?.unit, 'LPM');
    const bad = Payload.encode({ metrics: [{ alias: Long.fromNumber(8, true), doubleValue: 1 }] }).finish();
    assert.throws(() => metricsToSamples(decodePayload(bad), ctx(byAlias)), ContractViolation);
  });

  it('rejects topics that are not Sparkplug B', () => {
    assert.throws(() => parseTopic('spBv1.0/g/DDATA/e'), /DDATA without a device id/);
    assert.throws(() => parseTopic('factory/line1/temp'), /not a Sparkplug B topic/);
    assert.deepEqual(parseTopic('spBv1.0/g/NDATA/e'), {
      group: 'g',
      type: 'NDATA',
      edge: 'e',
      device: undefined,
    });
  });
});
