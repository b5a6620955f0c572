import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { PointConfig } from './config.js';
import { DATA_TYPES, isBitTable, TABLES, widthOf, type DataType, type Table } from './data-types.js';
import { planBlocks, spanOf } from './register-map.js';

function pt(
  name: string,
  table: Table,
  address: number,
  type: DataType = isBitTable(table) ? 'bool' : 'uint16',
) {
  return {
    name,
    table,
    address,
    type,
    byteOrder: 'big',
    wordOrder: 'big',
    scale: 1,
    offset: 0,
    unit: '',
  } satisfies PointConfig;
}

const summary = (points: PointConfig[], maxGap = 8, maxBlock = 120) =>
  planBlocks(points, { maxGap, maxBlock }).map(
    (b) => `${b.table} ${b.start}+${b.count}: ${b.points.map((p) => p.name).join(',')}`,
  );

describe('block planning', () => {
  it('coalesces neighbours of one table, up to maxGap unused registers between them', () => {
    const points = [
      pt('c', 'holding', 12, 'float64'),
      pt('a', 'holding', 0, 'int16'),
      pt('b', 'holding', 2, 'float32'),
      pt('far', 'holding', 100),
      pt('i', 'input', 0),
      pt('coil3', 'coil', 3),
      pt('coil0', 'coil', 0),
    ];
    assert.deepEqual(summary(points), [
      'holding 0+16: a,b,c',
      'holding 100+1: far',
      'input 0+1: i',
      'coil 0+4: coil0,coil3',
    ]);
    assert.equal(spanOf(planBlocks(points, { maxGap: 8, maxBlock: 120 })), 22);
    assert.deepEqual(summary(points, 0), [
      'holding 0+1: a',
      'holding 2+2: b',
      'holding 12+4: c',
      'holding 100+1: far',
      'input 0+1: i',
      'coil 0+1: coil0',
      'coil 3+1: coil3',
    ]);
  });

  it('reads overlapping points once, and splits at maxBlock', () => {
    assert.deepEqual(
      summary([pt('lo', 'holding', 1), pt('u32', 'holding', 0, 'uint32'), pt('hi', 'holding', 0)]),
      ['holding 0+2: u32,hi,lo'],
    );
    assert.deepEqual(summary([pt('a', 'holding', 0, 'float64'), pt('b', 'holding', 4, 'float64')], 8, 6), [
      'holding 0+4: a',
      'holding 4+4: b',
    ]);
  });

  it('covers every point exactly once, within its table, the gap and the size limits', () => {
    const point = fc.record({
      table: fc.constantFrom(...TABLES),
      address: fc.integer({ min: 0, max: 3000 }),
      type: fc.constantFrom(...DATA_TYPES.filter((t) => t !== 'bool')),
    });
    fc.assert(
      fc.property(
        fc.array(point, { maxLength: 60 }),
        fc.integer({ min: 0, max: 20 }),
        fc.integer({ min: 4, max: 125 }),
        (specs, maxGap, maxBlock) => {
          const points = specs.map((s, i) =>
            pt(`p${i}`, s.table, s.address, isBitTable(s.table) ? 'bool' : s.type),
          );
          const blocks = planBlocks(points, { maxGap, maxBlock });
          const covered = blocks.flatMap((b) => b.points.map((p) => p.name)).sort();
          assert.deepEqual(covered, points.map((p) => p.name).sort());
          for (const b of blocks) {
            assert.ok(b.count <= (isBitTable(b.table) ? 2000 : maxBlock), `block of ${b.count}`);
            const sorted = [...b.points].sort((x, y) => x.address - y.address);
            let end = b.start;
            for (const p of sorted) {
              assert.equal(p.table, b.table);
              assert.ok(p.address >= b.start && p.address + widthOf(p.type) <= b.start + b.count);
              assert.ok(p.address - end <= maxGap, 'no gap wider than maxGap');
              end = Math.max(end, p.address + widthOf(p.type));
            }
            assert.equal(end, b.start + b.count, 'a block ends with its last point');
          }
        },
      ),
    );
  });
});
