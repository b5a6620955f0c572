import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { busway, Long, msFromTimeNs, timeNsFromMs } from '@busway/proto';
import { Registry, parseSiteModel } from '@busway/registry';
import { enrichJob, normalizeSample } from './normalize.js';

const registry = new Registry(
  parseSiteModel({
    site: 'ai1',
    assets: [
      { id: 'rack-1', class: 'rack', hall: 'h1', row: 'r1', rack: 'rack-1' },
      { id: 'node-1', class: 'node', hall: 'h1', row: 'r1', rack: 'rack-1' },
      { id: 'cdu-1', class: 'cdu', hall: 'h1', row: 'r1', rack: 'plant-r1', cools: ['rack-1'] },
    ],
    points: [
      { pointId: 'sparkplug:g/e/cdu-1:Supply', asset: 'cdu-1', metric: 'temperature.coolant.supply' },
      { pointId: 'snmp:pdu-1:rPDUCurrent', asset: 'rack-1', metric: 'current.l1', unit: 'A', scale: 0.1 },
      { pointId: 'sparkplug:g/e/cdu-1:Running', asset: 'cdu-1', metric: 'state.running' },
    ],
  }),
  1,
);
const rules = { taiUtcOffsetS: 37, maxFutureSkewMs: 5000 };
const T = 1_800_000_000_000;
const raw = (over: Partial<busway.v1.ISample> = {}): busway.v1.ISample => ({
  pointId: 'sparkplug:g/e/cdu-1:Supply',
  doubleValue: 86,
  unit: 'degF',
  eventTimeNs: timeNsFromMs(T),
  ingestTimeNs: timeNsFromMs(T + 50),
  clockSource: busway.v1.ClockSource.CLOCK_SOURCE_DEVICE,
  source: { protocol: 'sparkplug', sourceId: 'g/e/cdu-1' },
  ...over,
});
const ok = (r: ReturnType<typeof normalizeSample>) => {
  assert.ok('ok' in r, JSON.stringify(r));
  return r.ok;
};

describe('normalizing a sample', () => {
  it('gives a registered point its UNS path, taxonomy metric and canonical unit', () => {
    const s = ok(normalizeSample(raw(), registry, 'ai1', rules));
    assert.deepEqual(s.path, {
      site: 'ai1',
      hall: 'h1',
      row: 'r1',
      rack: 'plant-r1',
      assetClass: 'cdu',
      asset: 'cdu-1',
    });
    assert.equal(s.metric, 'temperature.coolant.supply');
    assert.equal(s.unit, 'Cel');
    assert.ok(Math.abs((s.doubleValue ?? 0) - 30) < 1e-9);
    assert.equal(s.unregistered, false);
  });

  it('delivers an unknown point under a path derived from its source, flagged unregistered', () => {
    const s = ok(
      normalizeSample(
        raw({
          pointId: 'sparkplug:g/e/new-pump:Motor/Speed',
          unit: 'rpm',
          source: { sourceId: 'g/e/new-pump' },
        }),
        registry,
        'ai1',
        rules,
      ),
    );
    assert.equal(s.unregistered, true);
    assert.equal(s.path?.assetClass, 'unregistered');
    assert.equal(s.path?.asset, 'g-e-new-pump');
    assert.equal(s.metric, 'motor.speed');
  });

  it('shifts PTP time from TAI to UTC by the configured offset', () => {
    const s = ok(
      normalizeSample(
        raw({
          clockSource: busway.v1.ClockSource.CLOCK_SOURCE_PTP,
          eventTimeNs: timeNsFromMs(T + 37_000),
          ingestTimeNs: timeNsFromMs(T + 37_000),
        }),
        registry,
        'ai1',
        rules,
      ),
    );
    assert.equal(msFromTimeNs(s.eventTimeNs), T);
  });

  it('clamps a timestamp from the future to the ingest time and flags the skew', () => {
    const s = ok(normalizeSample(raw({ eventTimeNs: timeNsFromMs(T + 3_600_000) }), registry, 'ai1', rules));
    assert.equal(msFromTimeNs(s.eventTimeNs), T + 50);
    assert.deepEqual(s.flags, ['clock-skew']);
    assert.equal(s.quality, busway.v1.Quality.QUALITY_UNCERTAIN);
  });

  it('stamps a sample without source time with the ingest time, flagged', () => {
    const s = ok(normalizeSample(raw({ eventTimeNs: Long.UZERO }), registry, 'ai1', rules));
    assert.equal(msFromTimeNs(s.eventTimeNs), T + 50);
    assert.equal(s.clockSource, busway.v1.ClockSource.CLOCK_SOURCE_INGEST);
    assert.deepEqual(s.flags, ['no-source-time']);
  });

  it('rejects a power unit on a temperature point as a unit mismatch', () => {
    const r = normalizeSample(raw({ unit: 'kW' }), registry, 'ai1', rules);
    assert.ok('rejected' in r);
    assert.equal(r.rejected.code, 'unit-mismatch');
  });

  it('places a job on the racks of its nodes', () => {
    const e = enrichJob({ job: { jobId: 'j1', nodes: ['node-1', 'node-unknown'] } }, registry);
    assert.deepEqual(e.job?.racks, [
      { site: 'ai1', hall: 'h1', row: 'r1', rack: 'rack-1', assetClass: 'rack', asset: 'rack-1' },
    ]);
  });

  it('applies a point scale factor before the unit (an SNMP current in tenths of an ampere)', () => {
    const s = ok(
      normalizeSample(
        raw({
          pointId: 'snmp:pdu-1:rPDUCurrent',
          intValue: Long.fromNumber(123),
          doubleValue: undefined,
          unit: '',
        }),
        registry,
        'ai1',
        rules,
      ),
    );
    assert.ok(Math.abs((s.doubleValue ?? 0) - 12.3) < 1e-9);
    assert.equal(s.unit, 'A');
    assert.equal(s.metric, 'current.l1');
  });

  it('keeps a unitless state as it came, and rejects a registered measurement that has no unit at all', () => {
    const state = ok(
      normalizeSample(
        raw({
          pointId: 'sparkplug:g/e/cdu-1:Running',
          intValue: Long.fromNumber(1),
          doubleValue: undefined,
          unit: '',
        }),
        registry,
        'ai1',
        rules,
      ),
    );
    assert.equal(state.intValue?.toString(), '1');
    assert.equal(state.unit, '');
    const r = normalizeSample(raw({ unit: '' }), registry, 'ai1', rules);
    assert.ok('rejected' in r && r.rejected.code === 'unit-mismatch' && /no unit/.test(r.rejected.message));
  });
});
