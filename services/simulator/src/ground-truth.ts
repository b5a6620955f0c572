import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { TruthEntry } from './plant-sim.js';

/** Appends ground-truth entries as JSON lines, with the time also as RFC 3339 for people. */
export class GroundTruthLog {
  constructor(private readonly path?: string) {
    if (path) {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, '');
    }
  }

  write(entries: TruthEntry[]): void {
    if (!this.path || entries.length === 0) return;
    appendFileSync(
      this.path,
      entries.map((e) => JSON.stringify({ ...e, time: new Date(e.timeMs).toISOString() })).join('\n') + '\n',
    );
  }
}

/** Reads a ground-truth file back, for scoring a run against what really happened. */
export function readGroundTruth(path: string): TruthEntry[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as TruthEntry);
}
