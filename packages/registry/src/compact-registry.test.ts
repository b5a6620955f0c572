import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CompactRegistry } from './compact-registry.js';
import { PointIdTable } from './point-ids.js';
import { Registry } from './registry.js';
import { parseSiteModel, type Asset, type Point, type SiteModel } from './site-model.js';

const ids = ['a', 'b', 'c', 'rack-1', 'rack-2', 'node-1', 'cdu-1', 'tap-1'];
const classes = ['rack', 'node', 'cdu', 'pdu', 'tap', 'busway', 'gpu'];
const metrics = [
  'power.active',
  'temperature.coolant.supply',
  'temperature.gpu.die',
  'flow.coolant',
  'state.running',
];

const assetArb = (refs: string[]) =>
  fc.record(
    {
      id: fc.constantFrom(...ids),
      class: fc.constantFrom(...classes),
      hall: fc.constantFrom('h1', 'h2'),
      row: fc.constantFrom('_', 'r1', 'r2'),
      rack: fc.constantFrom('_', 'rack-1', 'rack-2', 'plant-1'),
      name: fc.string({ maxLength: 4 }),
      feeds: fc.uniqueArray(fc.constantFrom(...refs), { maxLength: 3 }),
      cools: fc.uniqueArray(fc.constantFrom(...refs), { maxLength: 2 }),
      parent: fc.constantFrom(...refs),
    },
    { requiredKeys: ['id', 'class', 'hall', 'row', 'rack', 'feeds', 'cools'] },
  );

/** Ids that collide, non-ASCII ones, a surrogate pair and a lone surrogate (UTF-8 cannot carry it). */
const pointIds = [
  'x:a:1',
  'x:a:2',
  'x:b:1',
  'snmp:pdu:cur',
  'bms:cdu:supply',
  'x:c:é',
  'x:\ud83d\ude00:2',
  'x:\ud800:1',
];

const pointArb = (assets: string[], idsFrom = pointIds) =>
  fc.record(
    {
      pointId: fc.constantFrom(...idsFrom),
      asset: fc.constantFrom(...assets),
      metric: fc.constantFrom(...metrics),
      unit: fc.constantFrom('kW', 'W', 'Cel', 'degF', '', 'L/min'),
      scale: fc.constantFrom(0.1, 1, 10),
      deadband: fc.constantFrom(0, 0.5, 2),
    },
    { requiredKeys: ['pointId', 'asset', 'metric'] },
  );

/** Models as the schema would leave them, but not validated: repeated ids and dangling references included. */
const looseModel: fc.Arbitrary<SiteModel> = fc
  .record({
    site: fc.constantFrom('ai1', 's'),
    assets: fc.array(assetArb([...ids, 'ghost']), { maxLength: 10 }),
    points: fc.array(pointArb([...ids, 'ghost'], [...pointIds, '', 'x']), { maxLength: 20 }),
  })
  .map((m) => m as SiteModel);

/** Models that pass `parseSiteModel`: unique asset ids, every reference known. */
const validModel: fc.Arbitrary<SiteModel> = fc
  .uniqueArray(fc.constantFrom(...ids), { minLength: 1 })
  .chain((assetIds) =>
    fc.record({
      site: fc.constant('ai1'),
      assets: fc.tuple(...assetIds.map((id) => assetArb(assetIds).map((a) => ({ ...a, id })))),
      points: fc.array(pointArb(assetIds), { maxLength: 30 }),
    }),
  )
  .map((raw) => parseSiteModel(raw));

const clone = (m: SiteModel): SiteModel => structuredClone(m);

/** Every question a registry answers, asked of both, for every id in the model and a few that are not. */
function assertSameAnswers(model: SiteModel): void {
  const plain = new Registry(clone(model), 7);
  const compact = new CompactRegistry(clone(model), 7);
  assert.equal(compact.version, plain.version);
  assert.equal(compact.site, plain.site);
  assert.deepEqual(compact.model, plain.model);
  for (const id of [...ids, 'ghost', 'unknown']) {
    assert.deepEqual(compact.asset(id), plain.asset(id), `asset ${id}`);
    assert.deepEqual(compact.pathOf(id), plain.pathOf(id), `pathOf ${id}`);
    assert.deepEqual(compact.feedersOf(id), plain.feedersOf(id), `feedersOf ${id}`);
    assert.deepEqual(compact.feedsOf(id), plain.feedsOf(id), `feedsOf ${id}`);
    assert.deepEqual(compact.coolersOf(id), plain.coolersOf(id), `coolersOf ${id}`);
    assert.deepEqual(compact.childrenOf(id), plain.childrenOf(id), `childrenOf ${id}`);
    assert.equal(compact.rackOf(id), plain.rackOf(id), `rackOf ${id}`);
  }
  for (const cls of [...classes, 'other'])
    assert.deepEqual(compact.assetsOfClass(cls), plain.assetsOfClass(cls), `assetsOfClass ${cls}`);
  for (const p of [...pointIds, '', 'x', 'x:none:1', 'x:a:10']) {
    const expected = plain.point(p);
    assert.deepEqual(compact.point(p), expected, `point ${p}`);
    const row = compact.pointRow(p);
    assert.equal(row >= 0, expected !== undefined);
    // off the wire: the id's UTF-8 bytes find the same row (a lone surrogate cannot be on the wire)
    const bytes = Buffer.from(`..${p}.`, 'utf8');
    const byBytes = compact.pointRowOfBytes(bytes, 2, bytes.length - 1);
    if (!/\p{Surrogate}/u.test(p)) assert.equal(byBytes, row, `pointRowOfBytes ${p}`);
    else assert.equal(byBytes, -1);
    if (expected === undefined) continue;
    assert.equal(compact.rowHasId(row, bytes, 2, bytes.length - 1), !/\p{Surrogate}/u.test(p));
    assert.equal(compact.pointIdOfRow(row), p);
    // the row API says the same as point()
    const asset = compact.assetAt(compact.assetOfRow(row));
    assert.equal(asset?.id, plain.asset(expected.asset) ? expected.asset : undefined);
    assert.deepEqual(
      { pointId: p, asset: expected.asset, ...compact.kind(compact.kindOfRow(row)) },
      expected,
    );
  }
}

describe('compact registry', () => {
  it('answers every lookup exactly as the plain registry, for random valid site models', () => {
    fc.assert(fc.property(validModel, assertSameAnswers), { numRuns: 300 });
  });

  it('answers every lookup exactly as the plain registry, for unvalidated models with repeated ids and dangling references', () => {
    fc.assert(fc.property(looseModel, assertSameAnswers), { numRuns: 300 });
  });

  it('finds every one of 50k ids by its string and by its bytes, and no id that is not there', () => {
    const many = Array.from({ length: 50_000 }, (_, i) => `sparkplug:bench/gw-${i % 97}/node-${i}:GPU Temp`);
    const table = new PointIdTable(many);
    for (let i = 0; i < many.length; i += 7) {
      const id = many[i] as string;
      assert.equal(table.rowOf(id), i);
      const b = Buffer.from(id);
      assert.equal(table.rowOfBytes(b, 0, b.length), i);
    }
    assert.equal(table.rowOf('sparkplug:bench/gw-0/node-0:GPU Tem'), -1);
    assert.equal(table.rowOf('sparkplug:bench/gw-0/node-0:GPU Temp '), -1);
  });

  it('shares one kind among points that say the same, and converts a plain registry once', () => {
    const assets: Asset[] = [
      { id: 'r', class: 'rack', hall: 'h', row: '_', rack: '_', feeds: [], cools: [] },
    ];
    const points: Point[] = Array.from({ length: 1000 }, (_, i) => ({
      pointId: `x:r:${i}`,
      asset: 'r',
      metric: i % 2 ? 'power.active' : 'temperature.gpu.die',
      ...(i % 4 === 0 ? { deadband: 0.5 } : {}),
    }));
    const plain = new Registry({ site: 's', assets, points }, 3);
    const compact = CompactRegistry.of(plain);
    assert.equal(compact.kindCount, 3);
    assert.equal(compact.pointCount, 1000);
    assert.equal(CompactRegistry.of(plain), compact, 'remembered');
    assert.equal(CompactRegistry.of(compact), compact);
    assert.deepEqual(compact.point('x:r:4'), {
      pointId: 'x:r:4',
      asset: 'r',
      metric: 'temperature.gpu.die',
      deadband: 0.5,
    });
  });
});
