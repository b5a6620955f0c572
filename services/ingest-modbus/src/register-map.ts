import type { PointConfig } from './config.js';
import { isBitTable, MAX_BITS_PER_READ, TABLES, widthOf, type Table } from './data-types.js';

/** One read request: a contiguous range of one table and the points decoded from it. */
export interface Block {
  table: Table;
  /** First address read. */
  start: number;
  /** Registers (or bits) read. */
  count: number;
  points: PointConfig[];
}

export interface PlanLimits {
  /** Unused registers (or bits) a block may span between two points. */
  maxGap: number;
  /** Most registers one block reads; bit blocks are bounded by the protocol's 2000 instead. */
  maxBlock: number;
}

/** The span of a point in its table, end exclusive. */
function endOf(p: PointConfig): number {
  return p.address + widthOf(p.type);
}

/**
 * Plans the reads of one poll cycle: per table, points sorted by address, neighbours (gap ≤ maxGap, overlaps
 * included) coalesced while the block stays within its size limit. Tables in a fixed order, blocks by address.
 */
export function planBlocks(points: readonly PointConfig[], limits: PlanLimits): Block[] {
  const blocks: Block[] = [];
  for (const table of TABLES) {
    const limit = isBitTable(table) ? MAX_BITS_PER_READ : limits.maxBlock;
    const sorted = points
      .filter((p) => p.table === table)
      .sort((a, b) => a.address - b.address || endOf(b) - endOf(a));
    let current: Block | undefined;
    for (const p of sorted) {
      if (current) {
        const end = current.start + current.count;
        const joined = Math.max(end, endOf(p)) - current.start;
        if (p.address - end <= limits.maxGap && joined <= limit) {
          current.count = joined;
          current.points.push(p);
          continue;
        }
      }
      current = { table, start: p.address, count: widthOf(p.type), points: [p] };
      blocks.push(current);
    }
  }
  return blocks;
}

/** Registers (or bits) a plan reads per cycle, gaps included. */
export function spanOf(blocks: readonly Block[]): number {
  return blocks.reduce((sum, b) => sum + b.count, 0);
}
