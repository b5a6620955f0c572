import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from '@busway/registry';
import { WriteRuleSchema } from './config.js';
import { CommandRefused } from './errors.js';
import { RuleBook } from './rules.js';

const registry = new Registry(
  {
    site: 'ai1',
    assets: [{ id: 'cdu-1', class: 'cdu', hall: 'h1', row: 'r1', rack: 'plant-r1', feeds: [], cools: [] }],
    points: [
      {
        pointId: 'modbus:cdu-1:supply-sp',
        asset: 'cdu-1',
        metric: 'temperature.coolant.supply.setpoint',
        unit: 'degC',
      },
      { pointId: 'modbus:cdu-1:supply', asset: 'cdu-1', metric: 'temperature.coolant.supply' },
      { pointId: 'modbus:cdu-1:flow', asset: 'cdu-1', metric: 'flow.coolant', scale: 0.1 },
    ],
  },
  1,
);
const SP = 'uns.v1.ai1.h1.r1.plant-r1.cdu.cdu-1.temperature.coolant.supply.setpoint';
const rules = (raw: unknown[]) =>
  new RuleBook(
    raw.map((r) => WriteRuleSchema.parse(r)),
    registry,
  );
const code = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    if (err instanceof CommandRefused) return err.code;
    throw err;
  }
  return 'found';
};

describe('write rules resolved against the registry', () => {
  it('finds a rule by point id or by UNS subject, with its readback and where both travel', () => {
    const book = rules([
      {
        point: 'modbus:cdu-1:supply-sp',
        min: 18,
        max: 32,
        readback: 'uns.v1.ai1.h1.r1.plant-r1.cdu.cdu-1.temperature.coolant.supply',
      },
      { path: 'uns.v1.ai1.h1.r1.plant-r1.cdu.cdu-1.flow.coolant', min: 0, max: 500 },
    ]);
    assert.equal(book.size, 2);
    const sp = book.find({ path: SP, pointId: '' });
    assert.equal(sp.target.pointId, 'modbus:cdu-1:supply-sp');
    assert.equal(sp.target.unit, 'degC');
    assert.equal(sp.readback.pointId, 'modbus:cdu-1:supply');
    assert.equal(sp.readback.normSubject, 'norm.v1.samples.ai1.h1.r1.plant-r1');
    assert.equal(book.find({ path: '', pointId: 'modbus:cdu-1:supply-sp' }), sp);
    const flow = book.find({ path: 'uns.v1.ai1.h1.r1.plant-r1.cdu.cdu-1.flow.coolant', pointId: '' });
    assert.equal(flow.target.pointId, 'modbus:cdu-1:flow');
    assert.equal(flow.target.scale, 0.1);
    assert.deepEqual(flow.readback, flow.target, 'the point itself by default');
    assert.deepEqual(
      book
        .readbacks()
        .map((p) => p.pointId)
        .sort(),
      ['modbus:cdu-1:flow', 'modbus:cdu-1:supply'],
    );
  });

  it('leaves every point without a rule read-only, and says why a rule it cannot resolve is unusable', () => {
    const book = rules([
      { point: 'modbus:cdu-1:supply-sp', min: 18, max: 32 },
      { point: 'modbus:cdu-9:ghost', min: 0, max: 1 },
    ]);
    assert.equal(
      code(() =>
        book.find({ path: 'uns.v1.ai1.h1.r1.plant-r1.cdu.cdu-1.temperature.coolant.supply', pointId: '' }),
      ),
      'not-writable',
    );
    assert.equal(
      code(() => book.find({ path: '', pointId: 'modbus:cdu-9:ghost' })),
      'unknown-point',
    );
    assert.match(book.problems.get('modbus:cdu-9:ghost') ?? '', /does not know point modbus:cdu-9:ghost/);
    assert.equal(
      code(() =>
        book.find({
          path: 'uns.v1.ai1.h1.r1.plant-r1.cdu.cdu-1.flow.coolant',
          pointId: 'modbus:cdu-1:supply-sp',
        }),
      ),
      'malformed',
    );
    assert.equal(rules([]).size, 0);
  });

  it('refuses in configuration what can never be safe: no bounds, min above max, a dsx-bms point without readback', () => {
    assert.throws(() => WriteRuleSchema.parse({ point: 'modbus:a:b' }), /needs min and max/);
    assert.throws(() => WriteRuleSchema.parse({ point: 'modbus:a:b', min: 5, max: 1 }), /below min/);
    assert.throws(
      () => WriteRuleSchema.parse({ point: 'modbus:a:b', path: SP, min: 0, max: 1 }),
      /exactly one of point or path/,
    );
    assert.throws(
      () => WriteRuleSchema.parse({ point: 'modbus:a:b', type: 'bool', max: 1 }),
      /bool rule has no min/,
    );
    assert.throws(
      () => WriteRuleSchema.parse({ point: 'dsx-bms:CDU/X/y', min: 0, max: 1 }),
      /needs readback/,
    );
    assert.throws(
      () => WriteRuleSchema.parse({ point: 'modbus:a:b', min: 0, max: 1, maxStpe: 1 }),
      /unrecognized key/i,
    );
  });
});
