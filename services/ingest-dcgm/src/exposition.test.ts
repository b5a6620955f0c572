import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { familyOf, parseExposition, parseValue } from './exposition.js';

const DCGM = `# HELP DCGM_FI_DEV_GPU_TEMP GPU temperature (in C).
# TYPE DCGM_FI_DEV_GPU_TEMP gauge
DCGM_FI_DEV_GPU_TEMP{gpu="0",UUID="GPU-604ac76c-d9cf-fef3-62e9-d92044ab6e52",pci_bus_id="00000000:18:00.0",device="nvidia0",modelName="NVIDIA H100 80GB HBM3",Hostname="gpu07",DCGM_FI_DRIVER_VERSION="550.90.07"} 41
DCGM_FI_DEV_GPU_TEMP{gpu="1",UUID="GPU-b",device="nvidia1",Hostname="gpu07"} 43
# HELP DCGM_FI_DEV_POWER_USAGE Power draw (in W).
# TYPE DCGM_FI_DEV_POWER_USAGE gauge
DCGM_FI_DEV_POWER_USAGE{gpu="0",UUID="GPU-a",Hostname="gpu07"} 68.459000
# TYPE DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION counter
DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{gpu="0",UUID="GPU-a",Hostname="gpu07"} 2468139581 1732896000123
`;

/** A reference writer: what a Prometheus client library prints for these values. */
const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const printValue = (v: number) =>
  Number.isNaN(v) ? 'NaN' : v === Infinity ? '+Inf' : v === -Infinity ? '-Inf' : String(v);

const metricName = fc.stringMatching(/^[a-zA-Z_:][a-zA-Z0-9_:]{0,20}$/);
const labelName = fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,12}$/);
const value = fc.oneof(fc.double(), fc.integer(), fc.constantFrom(NaN, Infinity, -Infinity, 0, -0));
const series = fc.record({
  name: metricName,
  labels: fc.dictionary(
    fc.oneof(labelName, fc.constant('__proto__')),
    fc.string({ unit: 'grapheme', maxLength: 12 }),
    {
      maxKeys: 5,
    },
  ),
  value,
  timestampMs: fc.option(fc.integer({ min: -1e12, max: 4e12 }), { nil: undefined }),
});

describe('Prometheus text exposition parser', () => {
  it('reads dcgm-exporter output: labels, HELP and TYPE, six-decimal floats, an optional timestamp', () => {
    const exp = parseExposition(DCGM);
    assert.deepEqual(exp.problems, []);
    assert.equal(exp.series.length, 4);
    assert.deepEqual(exp.series[0]?.labels, {
      gpu: '0',
      UUID: 'GPU-604ac76c-d9cf-fef3-62e9-d92044ab6e52',
      pci_bus_id: '00000000:18:00.0',
      device: 'nvidia0',
      modelName: 'NVIDIA H100 80GB HBM3',
      Hostname: 'gpu07',
      DCGM_FI_DRIVER_VERSION: '550.90.07',
    });
    assert.equal(exp.series[2]?.value, 68.459);
    assert.equal(exp.series[3]?.timestampMs, 1732896000123);
    assert.equal(exp.series[3]?.line, 9);
    assert.deepEqual(exp.families.get('DCGM_FI_DEV_POWER_USAGE'), {
      help: 'Power draw (in W).',
      type: 'gauge',
    });
    assert.equal(exp.families.get('DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION')?.type, 'counter');
    assert.equal(exp.skipped, 5);
  });

  it('reads escapes in label values and HELP, NaN and infinities, spaces around labels, a trailing comma, CRLF', () => {
    const exp = parseExposition(
      '# HELP m a \\\\ b\\nc\r\nm{ a = "x\\"y\\\\z\\nw" , b="",} NaN\r\nm{a="2"} +Inf\nm{a="3"} -Inf 5\nm 1e3\n',
    );
    assert.deepEqual(exp.problems, []);
    assert.equal(exp.families.get('m')?.help, 'a \\ b\nc');
    assert.deepEqual(exp.series[0]?.labels, { a: 'x"y\\z\nw', b: '' });
    assert.ok(Number.isNaN(exp.series[0]?.value));
    assert.equal(exp.series[1]?.value, Infinity);
    assert.equal(exp.series[2]?.value, -Infinity);
    assert.equal(exp.series[2]?.timestampMs, 5);
    assert.equal(exp.series[3]?.value, 1000);
  });

  it('reports each broken line with its kind and keeps every other line', () => {
    const exp = parseExposition(
      [
        'good{gpu="0"} 1',
        '9bad 1',
        'm{gpu="0} 1',
        'm{gpu="0",gpu="1"} 1',
        'm{gpu="\\t"} 1',
        'm{gpu="0"} twelve',
        'm{gpu="0"} 1 1.5',
        'm{gpu="0"} 1 2 3',
        'm{gpu="0"}1',
        '# TYPE good gauge',
        '# TYPE other sometimes',
        'good{gpu="0"} 2',
        'fine 3',
      ].join('\n'),
    );
    assert.deepEqual(
      exp.problems.map((p) => [p.line, p.code]),
      [
        [2, 'bad-name'],
        [3, 'bad-label'],
        [4, 'bad-label'],
        [5, 'bad-label'],
        [6, 'bad-value'],
        [7, 'bad-timestamp'],
        [8, 'bad-value'],
        [9, 'bad-value'],
        [10, 'late-type'],
        [11, 'bad-type'],
        [12, 'duplicate-series'],
      ],
    );
    assert.deepEqual(
      exp.series.map((s) => [s.name, s.value]),
      [
        ['good', 1],
        ['fine', 3],
      ],
    );
  });

  it('finds the histogram or summary a _bucket, _sum or _count series belongs to', () => {
    const exp = parseExposition('# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 2\nh_count 1\nx_count 3\n');
    assert.equal(familyOf(exp, 'h_bucket')?.type, 'histogram');
    assert.equal(familyOf(exp, 'h_count')?.type, 'histogram');
    assert.equal(familyOf(exp, 'x_count'), undefined);
  });

  it('reads back every exposition a reference writer prints, values and labels exactly', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(series, { selector: (s) => JSON.stringify([s.name, s.labels]), maxLength: 20 }),
        (all) => {
          const text = all
            .map((s) => {
              const labels = Object.entries(s.labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
              const ts = s.timestampMs === undefined ? '' : ` ${s.timestampMs}`;
              return `${s.name}${labels.length ? `{${labels.join(',')}}` : ''} ${printValue(s.value)}${ts}`;
            })
            .join('\n');
          const exp = parseExposition(text);
          assert.deepEqual(exp.problems, []);
          assert.equal(exp.series.length, all.length);
          exp.series.forEach((got, i) => {
            const want = all[i];
            assert.ok(want);
            assert.equal(got.name, want.name);
            assert.deepEqual(got.labels, { ...want.labels });
            if (Number.isNaN(want.value)) assert.ok(Number.isNaN(got.value));
            else assert.ok(got.value === want.value, `${got.value} read for ${want.value}`);
            assert.equal(got.timestampMs, want.timestampMs);
          });
        },
      ),
      { numRuns: 500 },
    );
  });

  it('never throws on arbitrary text, and accounts for every line: a series, a problem, or skipped', () => {
    const line = fc.oneof(
      fc.string({ maxLength: 60 }),
      fc.string({ unit: 'binary', maxLength: 60 }),
      fc.constantFrom(
        '# HELP x y',
        '# TYPE x gauge',
        '#',
        '',
        'x 1',
        'x{a="b"} 2 3',
        'x{a="\\',
        '{} 1',
        'x{=} 1',
      ),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 30 }), (lines) => {
        const text = lines.map((l) => l.replace(/\n/g, ' ')).join('\n');
        const exp = parseExposition(text);
        assert.equal(exp.series.length + exp.problems.length + exp.skipped, exp.lines);
        for (const p of exp.problems) assert.ok(p.code.length > 0 && p.reason.length > 0);
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps every untouched line of an exposition when one character of another is changed', () => {
    const base = DCGM.split('\n').slice(0, -1);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: base.length - 1 }),
        fc.nat(),
        fc.string({ minLength: 1, maxLength: 1 }),
        (row, at, ch) => {
          const lines = [...base];
          const target = lines[row] ?? '';
          lines[row] =
            target.slice(0, at % (target.length + 1)) +
            ch.replace(/\n/g, '"') +
            target.slice((at % (target.length + 1)) + 1);
          const exp = parseExposition(lines.join('\n'));
          const intact = parseExposition(base.join('\n')).series.filter((s) => s.line !== row + 1);
          for (const s of intact) {
            const got = exp.series.find((x) => x.line === s.line);
            // a changed TYPE or HELP line can only add a problem to its own line, never drop another sample
            assert.ok(got, `line ${s.line} still read`);
            assert.deepEqual(got.labels, s.labels);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('reads Go float spellings and refuses the rest', () => {
    for (const [text, v] of [
      ['1', 1],
      ['-1.5', -1.5],
      ['.5', 0.5],
      ['1.', 1],
      ['1e-3', 0.001],
      ['+2E2', 200],
      ['+Inf', Infinity],
      ['-Inf', -Infinity],
    ] as const)
      assert.equal(parseValue(text), v);
    for (const bad of ['', '1,5', '0x10', 'Infinity', 'nan', '1e', '--1', '1_000'])
      assert.throws(() => parseValue(bad), /is not a number/, bad);
  });
});
