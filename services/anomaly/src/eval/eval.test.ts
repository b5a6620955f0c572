import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { engineDetector, lateDetector, oracleDetector, randomDetector, silentDetector } from './detectors.js';
import { evaluate } from './evaluate.js';
import { syntheticDataset } from './generators.js';
import { loadNabCorpus } from './nab-format.js';
import { scaledSigmoid, scoreDetections } from './scoring.js';
import { simDataset } from './sim-stream.js';
import type { LabelledWindow } from './types.js';

const window: LabelledWindow = { id: 'w', type: 'spike', pointIds: ['p'], startMs: 1000, endMs: 2000 };
const score = (tMs: number[], pointId = 'p') =>
  scoreDetections(
    [window],
    tMs.map((t) => ({ pointId, tMs: t })),
    { scoredFromMs: 0 },
  );

describe('the scoring (NAB-style windows)', () => {
  it('rewards a detection at the start of a window most, at its end nothing, and counts one per window', () => {
    assert.ok(Math.abs(scaledSigmoid(-1) - 0.9866) < 1e-4);
    assert.equal(scaledSigmoid(0), 0);
    const early = score([1000]);
    assert.equal(early.nabNormalized, 100);
    assert.equal(early.precision, 1);
    assert.equal(early.recall, 1);
    assert.equal(early.perWindow[0]?.timeToDetectMs, 0);
    const late = score([2000]);
    assert.ok(Math.abs((late.nabNormalized ?? 0) - 50.34) < 0.01, `${late.nabNormalized}`);
    const twice = score([1000, 1500]);
    assert.equal(twice.truePositives, 1);
    assert.equal(twice.falsePositives, 0, 'a second detection inside the window is neither');
    assert.equal(twice.nabRaw, early.nabRaw);
  });

  it('penalizes a miss fully, a false alarm before any window by the FP weight, and one just after a window less', () => {
    assert.equal(score([]).nabNormalized, 0);
    assert.equal(score([]).recall, 0);
    const before = score([500, 1000]);
    assert.equal(before.falsePositives, 1);
    assert.ok(Math.abs(before.nabRaw - (scaledSigmoid(-1) - 0.11)) < 1e-9);
    const justAfter = score([2100]);
    const farAfter = score([9000]);
    assert.ok(justAfter.nabRaw > farAfter.nabRaw, 'a late alarm near the window costs less');
    assert.equal(justAfter.recall, 0);
  });

  it('counts a detection on a point the window does not list as a false alarm', () => {
    const other = score([1000], 'q');
    assert.equal(other.truePositives, 0);
    assert.equal(other.falsePositives, 1);
  });

  it('ignores what happens during the probationary period', () => {
    const r = scoreDetections([window], [{ pointId: 'p', tMs: 500 }], { scoredFromMs: 800 });
    assert.equal(r.falsePositives, 0);
    const hidden = scoreDetections([window], [], { scoredFromMs: 1500 });
    assert.equal(hidden.windows, 0, 'a window that starts in probation is not scored');
  });
});

describe('the evaluation harness on labelled streams', () => {
  const datasets = [
    simDataset({ seed: 5, durationMs: 15 * 60_000, faultMeanIntervalMs: 60_000 }),
    syntheticDataset('daily-seasonal', 1),
    syntheticDataset('heavy-tailed', 2),
  ];

  it('labels the simulator run with its injected faults and the synthetic series with theirs', () => {
    const sim = datasets[0]!;
    assert.ok(sim.windows.length >= 5, `${sim.windows.length} faults in 15 minutes`);
    const points = new Set(sim.items.flatMap((i) => ('sample' in i ? [i.sample.pointId] : [])));
    for (const w of sim.windows)
      for (const p of w.pointIds) assert.ok(points.has(p), `${p} is in the stream`);
    assert.ok(
      sim.items.some((i) => 'event' in i),
      'job events ride along',
    );
  });

  it('scores a detector that knows the labels near 100, one that never detects 0, and bad ones below both', () => {
    const oracle = evaluate(oracleDetector(), datasets).overall;
    const silent = evaluate(silentDetector, datasets).overall;
    const random = evaluate(randomDetector(30), datasets).overall;
    const late = evaluate(lateDetector, datasets).overall;
    assert.ok((oracle.nabNormalized ?? 0) > 98, `oracle ${oracle.nabNormalized}`);
    assert.equal(oracle.precision, 1);
    assert.equal(oracle.recall, 1);
    assert.equal(silent.nabNormalized, 0);
    assert.equal(silent.recall, 0);
    assert.ok((random.nabNormalized ?? 0) < 0, `random ${random.nabNormalized}`);
    assert.ok(random.precision < 0.2, `random precision ${random.precision}`);
    assert.ok(
      (late.nabNormalized ?? 0) < 0 && late.recall === 0,
      'detections after the window are worth nothing',
    );
  });

  it('ranks the engine between the null detector and the oracle, and reports time to detect per fault type', () => {
    const engine = evaluate(engineDetector(), datasets);
    assert.ok((engine.overall.nabNormalized ?? 0) > 0, `engine ${engine.overall.nabNormalized}`);
    assert.ok((engine.overall.nabNormalized ?? 0) < 100);
    for (const [type, t] of Object.entries(engine.types)) {
      assert.ok(t.windows >= t.detected, type);
      if (t.detected > 0) assert.ok((t.medianTimeToDetectMs ?? -1) >= 0, `${type} has a time to detect`);
    }
  });
});

describe('a corpus in the NAB layout', () => {
  it('reads the series, their windows and a 15 % probationary period', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nab-'));
    try {
      mkdirSync(join(dir, 'data', 'realKnownCause'), { recursive: true });
      mkdirSync(join(dir, 'labels'));
      const rows = Array.from({ length: 100 }, (_, i) => {
        const t = new Date(Date.UTC(2014, 1, 19, 0, 5 * i)).toISOString().replace('T', ' ').slice(0, 19);
        return `${t},${i === 80 ? 50 : 10}`;
      });
      writeFileSync(join(dir, 'data', 'realKnownCause', 'x.csv'), ['timestamp,value', ...rows].join('\n'));
      writeFileSync(
        join(dir, 'labels', 'combined_windows.json'),
        JSON.stringify({
          'realKnownCause/x.csv': [['2014-02-19 06:20:00.000000', '2014-02-19 07:00:00.000000']],
        }),
      );
      const [ds] = loadNabCorpus(dir);
      assert.equal(ds?.items.length, 100);
      assert.equal(ds?.windows.length, 1);
      assert.equal(ds?.windows[0]?.startMs, Date.UTC(2014, 1, 19, 6, 20));
      assert.equal(ds?.probationMs, 15 * 5 * 60_000);
      const r = evaluate(oracleDetector(), ds ? [ds] : []);
      assert.equal(r.overall.recall, 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
