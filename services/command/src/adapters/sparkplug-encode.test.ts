import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { type busway, Long, org } from '@busway/proto';
import { setValue, SpType } from '@busway/ingest-sparkplug';
import { CommandRefused } from '../errors.js';
import { commandMetric, isWritableDatatype, quantizeSparkplug } from './sparkplug-encode.js';

const NUMERIC = [
  SpType.Int8,
  SpType.Int16,
  SpType.Int32,
  SpType.Int64,
  SpType.UInt8,
  SpType.UInt16,
  SpType.UInt32,
  SpType.UInt64,
  SpType.Float,
  SpType.Double,
];

/** What ingest-sparkplug reads from a metric that went over the wire: the value as a plain number or boolean. */
function readBack(
  metric: org.eclipse.tahu.protobuf.Payload.IMetric,
  datatype: number,
): number | boolean | undefined {
  const wire = org.eclipse.tahu.protobuf.Payload.encode({ metrics: [metric] }).finish();
  const m = org.eclipse.tahu.protobuf.Payload.decode(wire).metrics[0];
  const s: busway.v1.ISample = {};
  if (!m || !setValue(s, m, datatype)) return undefined;
  return (
    s.doubleValue ??
    (s.intValue != null ? Number(s.intValue.toString()) : undefined) ??
    s.boolValue ??
    undefined
  );
}

describe('Sparkplug command metrics', () => {
  it("carry a value that ingest-sparkplug's decoder reads back as the quantized setpoint, for every numeric datatype", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...NUMERIC),
        fc.double({ min: -1e10, max: 1e10, noNaN: true }),
        (datatype, x) => {
          let q: number;
          try {
            q = quantizeSparkplug(x, datatype);
          } catch (err) {
            assert.ok(err instanceof CommandRefused && err.code === 'not-representable');
            return;
          }
          const metric = commandMetric({ name: 'sp', datatype, unit: '' }, q, 1_800_000_000_000);
          assert.equal(readBack(metric, datatype), q);
        },
      ),
    );
  });

  it('name the metric by its alias alone when the birth gave one (Sparkplug 3.0), else by its name', () => {
    const byAlias = commandMetric(
      { name: 'Setpoints/Supply', datatype: SpType.Double, unit: 'Cel', alias: 7 },
      25.5,
      1000,
    );
    assert.equal(byAlias.name, undefined);
    assert.ok(Long.fromValue(byAlias.alias as Long).equals(7));
    assert.equal(byAlias.datatype, SpType.Double);
    assert.equal(byAlias.doubleValue, 25.5);
    assert.ok(Long.fromValue(byAlias.timestamp as Long).equals(1000));
    const byName = commandMetric(
      { name: 'Setpoints/Supply', datatype: SpType.Boolean, unit: '' },
      true,
      1000,
    );
    assert.equal(byName.name, 'Setpoints/Supply');
    assert.equal(byName.alias, undefined);
    assert.equal(byName.booleanValue, true);
  });

  it('refuse values a datatype cannot hold, and datatypes that hold no setpoint', () => {
    assert.throws(() => quantizeSparkplug(300, SpType.Int8), /does not fit Int8/);
    assert.throws(() => quantizeSparkplug(-1, SpType.UInt32), /does not fit UInt32/);
    assert.throws(
      () => commandMetric({ name: 'run', datatype: SpType.Boolean, unit: '' }, 1, 0),
      /takes true or false/,
    );
    assert.throws(
      () => commandMetric({ name: 'sp', datatype: SpType.Float, unit: '' }, true, 0),
      /takes a number/,
    );
    for (const t of [SpType.String, SpType.DataSet, SpType.Template, SpType.Bytes, SpType.DateTime])
      assert.equal(isWritableDatatype(t), false, `datatype ${t}`);
    assert.equal(quantizeSparkplug(-4.6, SpType.Int16), -5);
  });
});
