import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ConfigError } from '@busway/runtime';
import { DEFAULT_RULES, loadRules, parseRules } from './rules.js';

const dir = mkdtempSync(join(tmpdir(), 'busway-rules-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe('correlation rules', () => {
  it('accepts the built-in rules and fills every default', () => {
    const rules = loadRules();
    assert.deepEqual(
      rules.rules.map((r) => r.type),
      ['job-chain', 'unexplained-power', 'unexplained-thermal', 'grid-response'],
    );
    const job = rules.rules[0];
    assert.equal(job?.type, 'job-chain');
    if (job?.type === 'job-chain') {
      assert.equal(job.kind, 'job-power-thermal', 'the kind other workers consume is kept');
      assert.equal(job.power[0]?.leadMs, 1000);
      assert.deepEqual(job.thermal[0]?.loadClasses, ['pdu']);
    }
  });

  it('reads a YAML rules file', () => {
    const path = file(
      'rules.yaml',
      `rules:
  - name: liquid
    kind: job-power-thermal
    type: job-chain
    power:
      - { select: rack, classes: [pdu], minStep: 2500, windowMs: 5000 }
    thermal:
      - { select: coolers, classes: [cdu], metric: temperature.coolant.return, minRise: 0.5, timeConstantMs: 20000 }
  - name: grid
    kind: grid-load-response
    type: grid-response
    signalTypes: [IMPORT_CAPACITY_LIMIT]
    minChange: 20000
    direction: down
`,
    );
    const rules = loadRules(path);
    assert.equal(rules.rules.length, 2);
    const grid = rules.rules[1];
    assert.ok(grid?.type === 'grid-response' && grid.direction === 'down' && grid.baselineMs === 30_000);
  });

  it('names the offending path of a bad rule', () => {
    const bad = (mutate: (r: Record<string, unknown>[]) => void, pattern: RegExp) => {
      const raw = structuredClone(DEFAULT_RULES) as unknown as { rules: Record<string, unknown>[] };
      mutate(raw.rules);
      assert.throws(
        () => parseRules(raw),
        (err: unknown) => err instanceof ConfigError && pattern.test(err.message),
      );
    };
    bad((r) => ((r[0]!.power as Record<string, unknown>[])[0]!.minStep = -5), /rules\.0\.power\.0\.minStep/);
    bad((r) => ((r[0]!.thermal as Record<string, unknown>[])[0]!.metric = 'warmth.coolant'), /quantity kind/);
    bad((r) => (r[1]!.name = r[0]!.name), /duplicate rule name job-power-thermal/);
    bad(
      (r) => (r[1]!.explainedBy = ['no-such-rule']),
      /rules\.1\.explainedBy: no-such-rule is not a job-chain rule/,
    );
    bad((r) => (r[0]!.type = 'job-chain-v2'), /rules\.0\.type/);
    bad((r) => ((r[0]!.power as Record<string, unknown>[])[0]!.select = 'row'), /select/);
  });

  it("accepts the rules example of the package's README", () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const example = /```yaml\n(# correlator-rules[\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(example, 'the README has the example');
    const rules = loadRules(file('readme.yaml', example));
    assert.deepEqual(
      rules.rules.map((r) => r.kind),
      ['job-power-thermal', 'unexplained-power-transient', 'unexplained-thermal-rise', 'grid-load-response'],
    );
  });

  it('fails on a rules file that does not parse, naming the file', () => {
    const path = file('broken.yaml', 'rules: [ { name: x\n');
    assert.throws(
      () => loadRules(path),
      (err: unknown) => err instanceof ConfigError && err.message.includes(path),
    );
  });

  it('never accepts a rule set without rules, whatever else it holds', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (extra) => {
        assert.throws(() => parseRules({ ...extra, rules: [] }), ConfigError);
      }),
    );
  });
});
