import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counter, Registry } from 'prom-client';
import { parsePrometheus, sumOf } from './prometheus.js';
import { parseDurationMs } from './duration.js';

describe('reading worker metrics', () => {
  it('parses what prom-client writes, labels and all, and sums by label match', async () => {
    const registry = new Registry();
    const c = new Counter({
      name: 'busway_samples_total',
      help: 'h',
      labelNames: ['stage', 'direction'],
      registers: [registry],
    });
    c.inc({ stage: 'normalize', direction: 'in' }, 7);
    c.inc({ stage: 'normalize', direction: 'out' }, 5);
    c.inc({ stage: 'fanout', direction: 'out' }, 2);
    const samples = parsePrometheus(await registry.metrics());
    assert.equal(sumOf(samples, 'busway_samples_total', { stage: 'normalize', direction: 'out' }), 5);
    assert.equal(sumOf(samples, 'busway_samples_total', { direction: 'out' }), 7);
    assert.equal(sumOf(samples, 'busway_samples_total'), 14);
    assert.equal(sumOf(samples, 'busway_missing_total'), 0);
  });

  it('keeps escaped quotes inside label values', () => {
    const [s] = parsePrometheus('m{reason="bad \\"unit\\""} 3\n');
    assert.equal(s?.labels.reason, 'bad "unit"');
    assert.equal(s?.value, 3);
  });
});

describe('durations', () => {
  it('reads seconds, minutes and milliseconds, bare numbers as seconds', () => {
    assert.equal(parseDurationMs('30s'), 30_000);
    assert.equal(parseDurationMs('2m'), 120_000);
    assert.equal(parseDurationMs('1500ms'), 1500);
    assert.equal(parseDurationMs('45'), 45_000);
    assert.throws(() => parseDurationMs('soon'), /invalid duration 'soon'/);
  });
});
