import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { timeNsFromMs } from '@busway/proto';
import type { Dataset, StreamItem } from './types.js';

/** NAB's timestamps ("2014-02-19 10:50:00" or with ".000000") are UTC. */
const parseTime = (s: string) =>
  Date.parse(
    `${s
      .trim()
      .replace(' ', 'T')
      .replace(/\.\d+$/, '')}Z`,
  );

function csvFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? csvFiles(p) : name.endsWith('.csv') ? [p] : [];
  });
}

/**
 * Reads a corpus laid out as the Numenta Anomaly Benchmark: `<dir>/data/<group>/<name>.csv` with columns
 * timestamp,value and `<dir>/labels/combined_windows.json` mapping "<group>/<name>.csv" to [start, end]
 * windows. The first 15 % of each file is probationary, as in NAB. No such corpus ships on npm, so none is
 * in this repository: point --nab at a copy to score the detector on it.
 */
export function loadNabCorpus(dir: string): Dataset[] {
  const labels = JSON.parse(readFileSync(join(dir, 'labels', 'combined_windows.json'), 'utf8')) as Record<
    string,
    [string, string][]
  >;
  const dataDir = join(dir, 'data');
  return csvFiles(dataDir).map((file) => {
    const key = relative(dataDir, file).split('\\').join('/');
    const pointId = `nab:${key}`;
    const items: StreamItem[] = [];
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const [ts, v] = line.split(',');
      if (!ts || v === undefined) continue;
      const t = parseTime(ts);
      if (!Number.isFinite(t)) continue;
      items.push({
        sample: { pointId, metric: 'value', doubleValue: Number(v), eventTimeNs: timeNsFromMs(t) },
      });
    }
    const times = items.map((i) => ('sample' in i ? Number(i.sample.eventTimeNs?.toString()) / 1e6 : 0));
    const startMs = times[0] ?? 0;
    const endMs = times.at(-1) ?? 0;
    const probationIndex = Math.floor(0.15 * times.length);
    return {
      name: `nab ${key}`,
      source: 'nab',
      family: `nab/${key.split('/')[0]}`,
      items,
      windows: (labels[key] ?? []).map(([a, b], k) => ({
        id: `${key}/${k}`,
        type: 'nab-window',
        pointIds: [pointId],
        startMs: parseTime(a),
        endMs: parseTime(b),
      })),
      probationMs: (times[probationIndex] ?? startMs) - startMs,
      startMs,
      endMs,
    };
  });
}
