import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { busway, Long, msFromTimeNs } from '@busway/proto';
import { parseExposition } from './exposition.js';
import { DCGM_FIELD_MAP, helpUnitOf } from './fields.js';
import { mapExposition, type ScrapeStamp } from './samples.js';

const stamp = (extra: Partial<ScrapeStamp> = {}): ScrapeStamp => ({
  targetId: 'exp-1',
  url: 'http://gpu07:9400/metrics',
  pollMs: 1_732_896_000_000,
  ingestTimeNs: Long.fromNumber(1_732_896_000_000_000_000, true),
  ...extra,
});
const map = (text: string, counters = new Map<string, number>(), s = stamp()) =>
  mapExposition(parseExposition(text), s, DCGM_FIELD_MAP, counters);
const Q = busway.v1.Quality;

const EXPOSITION = `# HELP DCGM_FI_DEV_POWER_USAGE Power draw (in W).
# TYPE DCGM_FI_DEV_POWER_USAGE gauge
DCGM_FI_DEV_POWER_USAGE{gpu="0",UUID="GPU-a",modelName="NVIDIA H100 80GB HBM3",Hostname="gpu07"} 612.5
DCGM_FI_DEV_POWER_USAGE{gpu="1",UUID="GPU-b",modelName="NVIDIA H100 80GB HBM3",Hostname="gpu07"} 88.25
# HELP DCGM_FI_DEV_GPU_TEMP GPU temperature (in C).
# TYPE DCGM_FI_DEV_GPU_TEMP gauge
DCGM_FI_DEV_GPU_TEMP{gpu="0",UUID="GPU-a",Hostname="gpu07"} 71
# HELP DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION Total energy consumption since boot (in mJ).
# TYPE DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION counter
DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{gpu="0",UUID="GPU-a",Hostname="gpu07"} 5000 1732895999500
# HELP DCGM_FI_DEV_XID_ERRORS Value of the last XID error encountered.
# TYPE DCGM_FI_DEV_XID_ERRORS gauge
DCGM_FI_DEV_XID_ERRORS{gpu="1",UUID="GPU-b",Hostname="gpu08"} 79
# TYPE DCGM_FI_DEV_VGPU_LICENSE_STATUS gauge
DCGM_FI_DEV_VGPU_LICENSE_STATUS{gpu="0",Hostname="gpu07"} 0
`;

describe('DCGM series to samples', () => {
  it('maps fields to taxonomy points per node and GPU, with units, value types and clocks', () => {
    const m = map(EXPOSITION);
    assert.deepEqual(m.faults, []);
    assert.deepEqual([...m.unmapped], [['DCGM_FI_DEV_VGPU_LICENSE_STATUS', 1]]);
    const gpu07 = m.byHost.get('gpu07') ?? [];
    assert.deepEqual(
      gpu07.map((s) => [s.pointId, s.unit, s.doubleValue ?? Number(s.intValue)]),
      [
        ['dcgm:gpu07:gpu0/DCGM_FI_DEV_POWER_USAGE', 'W', 612.5],
        ['dcgm:gpu07:gpu1/DCGM_FI_DEV_POWER_USAGE', 'W', 88.25],
        ['dcgm:gpu07:gpu0/DCGM_FI_DEV_GPU_TEMP', 'Cel', 71],
        ['dcgm:gpu07:gpu0/DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION', 'mJ', 5000],
      ],
    );
    const [power, , , energy] = gpu07;
    assert.equal(power?.clockSource, busway.v1.ClockSource.CLOCK_SOURCE_INGEST);
    assert.equal(msFromTimeNs(power?.eventTimeNs as Long), 1_732_896_000_000);
    assert.equal(energy?.clockSource, busway.v1.ClockSource.CLOCK_SOURCE_DEVICE);
    assert.equal(msFromTimeNs(energy?.eventTimeNs as Long), 1_732_895_999_500);
    assert.deepEqual(energy?.flags, ['counter']);
    assert.equal(power?.flags, undefined, 'a gauge is not flagged as a counter');
    const xid = m.byHost.get('gpu08')?.[0];
    assert.equal(Number(xid?.intValue), 79);
    assert.equal(xid?.source?.sourceId, 'gpu08');
    assert.deepEqual(
      m.gpus.map((g) => [g.host, g.index, g.uuid, g.points.map((p) => p.metric)]),
      [
        ['gpu07', 0, 'GPU-a', ['power.gpu', 'temperature.gpu.die', 'energy.gpu']],
        ['gpu07', 1, 'GPU-b', ['power.gpu']],
        ['gpu08', 1, 'GPU-b', ['state.gpu.xid']],
      ],
    );
  });

  it('flags a counter that went down as reset, and keeps gauges and counters apart', () => {
    const counters = new Map<string, number>();
    const line = (v: number) =>
      `# TYPE DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION counter\nDCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{gpu="0",Hostname="n1"} ${v}\n`;
    map(line(900), counters);
    assert.deepEqual(map(line(1000), counters).byHost.get('n1')?.[0]?.flags, ['counter']);
    assert.deepEqual(map(line(10), counters).byHost.get('n1')?.[0]?.flags, ['counter', 'counter-reset']);
  });

  it('turns a contradicting TYPE, an unreadable HELP unit, a negative counter, a missing gpu label and a repeated point into faults', () => {
    const m = map(
      [
        '# TYPE DCGM_FI_DEV_GPU_TEMP counter',
        'DCGM_FI_DEV_GPU_TEMP{gpu="0",Hostname="n1"} 50',
        '# HELP DCGM_FI_DEV_POWER_USAGE Power draw (in furlongs).',
        'DCGM_FI_DEV_POWER_USAGE{gpu="0",Hostname="n1"} 50',
        'DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{gpu="0",Hostname="n1"} -4',
        'DCGM_FI_DEV_GPU_UTIL{Hostname="n1"} 50',
        'DCGM_FI_DEV_MEM_CLOCK{gpu="0",Hostname="n1",pod="a"} 1',
        'DCGM_FI_DEV_MEM_CLOCK{gpu="0",Hostname="n1",pod="b"} 2',
        'DCGM_FI_DEV_SM_CLOCK{gpu="0",Hostname="n1"} NaN',
      ].join('\n'),
    );
    assert.deepEqual(
      m.faults.map((f) => [f.key, f.reason.code]),
      [
        ['series/dcgm:n1:gpu0/DCGM_FI_DEV_GPU_TEMP', 'contract-violation'],
        ['series/dcgm:n1:gpu0/DCGM_FI_DEV_POWER_USAGE', 'unit-unknown'],
        ['series/dcgm:n1:gpu0/DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION', 'contract-violation'],
        ['gpu-label/DCGM_FI_DEV_GPU_UTIL', 'contract-violation'],
        ['duplicate/dcgm:n1:gpu0/DCGM_FI_DEV_MEM_CLOCK', 'contract-violation'],
      ],
    );
    const byPoint = new Map((m.byHost.get('n1') ?? []).map((s) => [s.pointId?.split('/')[1], s]));
    assert.deepEqual(byPoint.get('DCGM_FI_DEV_GPU_TEMP')?.flags, ['type-mismatch']);
    assert.equal(byPoint.get('DCGM_FI_DEV_POWER_USAGE')?.quality, Q.QUALITY_BAD);
    assert.deepEqual(byPoint.get('DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION')?.flags, ['negative-counter']);
    assert.equal(
      Number(byPoint.get('DCGM_FI_DEV_MEM_CLOCK')?.doubleValue),
      1,
      'the first of two series is kept',
    );
    const nan = byPoint.get('DCGM_FI_DEV_SM_CLOCK');
    assert.equal(nan?.quality, Q.QUALITY_BAD);
    assert.deepEqual(nan?.flags, ['not-a-number']);
    assert.equal(nan?.doubleValue, undefined);
  });

  it('names MIG instances apart, takes the node from the target or the instance label when there is no Hostname', () => {
    const mig = map(
      'DCGM_FI_PROF_SM_ACTIVE{gpu="2",GPU_I_ID="5",GPU_I_PROFILE="1g.10gb",Hostname="n1"} 0.25\n',
    );
    assert.equal(mig.byHost.get('n1')?.[0]?.pointId, 'dcgm:n1:gpu2-i5/DCGM_FI_PROF_SM_ACTIVE');
    assert.equal(mig.gpus[0]?.points[0]?.metric, 'utilization.gpu.sm.mig5');
    const inst = map('DCGM_FI_DEV_GPU_UTIL{gpu="0",instance="gpu09.lab:9400"} 5\n');
    assert.ok(inst.byHost.has('gpu09.lab'));
    const fixed = map(
      'DCGM_FI_DEV_GPU_UTIL{gpu="0",Hostname="dcgm-exporter-x7k2p"} 5\n',
      new Map(),
      stamp({ node: 'gpu10' }),
    );
    assert.deepEqual([...fixed.byHost.keys()], ['gpu10']);
  });

  it('reads the unit of a HELP text written the dcgm-exporter way', () => {
    assert.equal(helpUnitOf('Power draw (in W).'), 'W');
    assert.equal(helpUnitOf('Framebuffer memory used (in MiB).'), 'MiBy');
    assert.equal(helpUnitOf('Value of the last XID error encountered.'), undefined);
    assert.equal(helpUnitOf('Speed (in parsecs).'), null);
    assert.equal(helpUnitOf('Speed (in constructor).'), null, "an Object member's name is no unit");
    assert.equal(helpUnitOf(undefined), undefined);
  });

  it('never throws on random series, and ends each mapped series as exactly one sample or one fault', () => {
    const fields = Object.keys(DCGM_FIELD_MAP);
    const labelValue = fc.oneof(fc.string({ maxLength: 8 }), fc.integer({ min: -2, max: 20000 }).map(String));
    const seriesLine = fc.record({
      name: fc.oneof(fc.constantFrom(...fields), fc.stringMatching(/^[A-Z_]{1,12}$/)),
      gpu: fc.option(labelValue, { nil: undefined }),
      host: fc.option(fc.string({ maxLength: 8 }), { nil: undefined }),
      mig: fc.option(labelValue, { nil: undefined }),
      value: fc.oneof(fc.double(), fc.integer()),
    });
    const typeLine = fc.record({
      name: fc.constantFrom(...fields),
      type: fc.constantFrom('gauge', 'counter', 'untyped'),
      help: fc.option(
        fc.string({ maxLength: 20 }).map((s) => s.replace(/[\n\\]/g, '')),
        { nil: undefined },
      ),
    });
    const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
    fc.assert(
      fc.property(
        fc.array(typeLine, { maxLength: 4 }),
        fc.array(seriesLine, { maxLength: 25 }),
        (types, lines) => {
          const head = [...new Map(types.map((t) => [t.name, t])).values()].flatMap((t) => [
            ...(t.help === undefined ? [] : [`# HELP ${t.name} ${t.help}`]),
            `# TYPE ${t.name} ${t.type}`,
          ]);
          const body = lines.map((l) => {
            const labels = [
              l.gpu === undefined ? '' : `gpu="${esc(l.gpu)}"`,
              l.host === undefined ? '' : `Hostname="${esc(l.host)}"`,
              l.mig === undefined ? '' : `GPU_I_ID="${esc(l.mig)}"`,
            ].filter(Boolean);
            return `${l.name}{${labels.join(',')}} ${Number.isNaN(l.value) ? 'NaN' : l.value === Infinity ? '+Inf' : l.value === -Infinity ? '-Inf' : l.value}`;
          });
          const exp = parseExposition([...head, ...body].join('\n'));
          const m = mapExposition(exp, stamp(), DCGM_FIELD_MAP, new Map());
          const samples = [...m.byHost.values()].flat();
          const unmapped = [...m.unmapped.values()].reduce((a, b) => a + b, 0);
          const dropped = m.faults.filter(
            (f) => f.key.startsWith('gpu-label/') || f.key.startsWith('duplicate/'),
          ).length;
          assert.equal(samples.length + unmapped + dropped, exp.series.length);
          for (const s of samples) {
            const bad = s.quality === Q.QUALITY_BAD;
            assert.ok(
              bad || s.doubleValue != null || s.intValue != null,
              `${s.pointId} has a value or is bad`,
            );
            if (bad) assert.ok((s.flags ?? []).length > 0, 'a bad sample says why');
          }
          for (const f of m.faults) assert.ok(f.reason.message.length > 0);
        },
      ),
      { numRuns: 1500 },
    );
  });
});
