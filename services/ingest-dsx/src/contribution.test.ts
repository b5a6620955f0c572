import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseSiteModel, Registry } from '@busway/registry';
import { contributionOf } from './contribution.js';
import { MetadataSchema, metricOf, type Metadata } from './metadata.js';
import { readCapture } from './replay.js';
import { parseBmsTopic, pointKeyOf } from './topic.js';

const capture = readCapture(join(dirname(fileURLToPath(import.meta.url)), '../fixtures/dsx_exemplar.csv'));
const metadata = new Map<string, { pointId: string; tagPath: string; meta: Metadata }>();
for (const r of capture) {
  const t = parseBmsTopic(r.topic);
  if (t.kind !== 'Metadata') continue;
  const key = pointKeyOf(t);
  metadata.set(key, {
    pointId: `dsx-bms:${key}`,
    tagPath: t.tagPath,
    meta: MetadataSchema.parse(JSON.parse(r.payload)),
  });
}
const layout = { hallSegment: 2, rowPattern: /^row/i };

describe('BMS metadata into the registry', () => {
  const c = contributionOf(metadata, layout);
  const registry = new Registry(parseSiteModel({ site: 'titan', ...c }), 1);

  it('reads the whole capture: 4,711 messages, 166 metadata points', () => {
    assert.equal(capture.length, 4711);
    assert.equal(metadata.size, 166);
  });

  it('puts the power chain in the registry: busway → tap → rack, both feeds (A and B)', () => {
    assert.deepEqual(
      registry
        .feedersOf('Pod1C-E05')
        .map((a) => a.id)
        .sort(),
      ['C-E-BUS-E1', 'C-E-BUS-E2', 'C-E05-TAP-E1', 'C-E05-TAP-E2'],
    );
    assert.deepEqual(
      registry.feedersOf('C-E05-TAP-E1').map((a) => a.id),
      ['C-E-BUS-E1'],
    );
    assert.equal(registry.asset('C-E-BUS-E1')?.class, 'meter');
    assert.equal(registry.asset('Pod1C-E05')?.class, 'rack');
    assert.equal(registry.rackOf('C-E05-TAP-E1'), 'Pod1C-E05', 'a tap serving one rack stands in it');
  });

  it('puts the cooling topology and containment in the registry', () => {
    assert.ok(registry.coolersOf('Pod1C-E02').some((a) => a.id === 'C-F00-CDU-05'));
    assert.equal(registry.asset('Pod1C-E02-valve')?.parent, 'Pod1C-E02');
    assert.equal(registry.asset('C-E02-TAP-E2-shunt')?.parent, 'C-E02-TAP-E2');
  });

  it('places racks in their hall and row from the tag path', () => {
    assert.deepEqual(registry.pathOf('Pod1C-E02'), {
      site: 'titan',
      hall: 'pod1c',
      row: 'rowe',
      rack: 'Pod1C-E02',
      assetClass: 'rack',
      asset: 'Pod1C-E02',
    });
  });

  it('maps every metadata point to a taxonomy metric, one subject per point', () => {
    assert.equal(c.points.length, metadata.size, 'every point type of the capture is known');
    const subjects = new Set(c.points.map((p) => `${p.asset}|${p.metric}`));
    assert.equal(subjects.size, c.points.length);
    const metricOfKey = (key: string) => c.points.find((p) => p.pointId === `dsx-bms:${key}`)?.metric;
    assert.equal(
      metricOfKey(
        'Rack/RackLiquidSupplyTemperature/nvidia/titan/pod1C/rowE/rack02/energyValve/supplyTemperature/feedback/value',
      ),
      'temperature.coolant.supply',
    );
    assert.equal(
      metricOfKey('CDU/LiquidFlow/nvidia/titan/pod1C/C-F00-CDU-05/primary/flow/feedback/value'),
      'flow.facility-water',
    );
    assert.equal(
      metricOfKey('PowerMeter/PhaseCurrent/nvidia/titan/pod1C/C-E-BUS-E1/info/current/currentPhase1/value'),
      'current.l1',
    );
  });

  it('keeps states apart from measurements, and setpoints from readings', () => {
    const m = (o: Partial<Metadata>) => metricOf({ objectType: 'Rack', pointType: 'X', ...o } as Metadata);
    assert.equal(
      m({ pointType: 'RackLeakDetect', stateText: [{ value: 0, text: 'NoLeak' }] }),
      'state.leak-detect',
    );
    assert.equal(
      m({ pointType: 'RackLiquidDifferentialPressureSp' }),
      'pressure.coolant.differential.setpoint',
    );
    assert.equal(
      m({
        objectType: 'CDU',
        pointType: 'LiquidTemperature',
        processArea: ['Secondary', 'Supply'],
        isSetpoint: true,
      }),
      'temperature.coolant.supply.setpoint',
    );
    assert.equal(m({ pointType: 'SomethingNew' }), undefined, 'unknown: delivered unregistered, not guessed');
    // names of Object's members are unknown types too, not the members
    assert.equal(m({ pointType: 'constructor' }), undefined);
    assert.equal(m({ pointType: 'PhaseCurrent', phase: 'toString' }), 'current.phase');
  });
});
