import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { activeAlarmsOf } from './alarms-route.js';
import { subjectMatches } from './uns-pattern.js';

const tokenArb = fc.constantFrom('ai1', 'h1', 'r1', 'r2', 'cdu', 'pdu', 'cdu-r1', 'pdu-1', 'flow', 'power');
const subjectArb = fc.array(tokenArb, { minLength: 7, maxLength: 9 }).map((t) => `uns.v1.${t.join('.')}`);
const raisedArb = fc
  .integer({ min: 1_700_000_000_000, max: 1_900_000_000_000 })
  .map((ms) => `${new Date(ms).toISOString().slice(0, 23)}000000Z`);
const alarmArb = fc.record({ path: subjectArb, raised: raisedArb, code: fc.string() });

describe('reading the active alarms fan-out keeps', () => {
  it('never throws on any stored value; returns only alarms matching the pattern, newest raise first', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.string({ minLength: 1, maxLength: 20 }),
          fc.oneof(
            alarmArb.map((a) => JSON.stringify(a)),
            fc.string(), // not fan-out's JSON
            fc.constantFrom('null', '42', '{"path":7}', '[]'),
          ),
        ),
        fc.constantFrom(undefined, 'uns.v1.>', 'uns.v1.ai1.*.*.*.cdu.>', 'uns.v1.*.*.*.*.*.*.power'),
        (hash, pattern) => {
          const alarms = activeAlarmsOf(hash, pattern);
          const valid = Object.entries(hash).filter(([, v]) => {
            try {
              const a = JSON.parse(v) as { path?: unknown } | null;
              return typeof a?.path === 'string' && (!pattern || subjectMatches(pattern, a.path));
            } catch {
              return false;
            }
          });
          assert.equal(alarms.length, valid.length);
          for (const a of alarms) {
            assert.ok(a.alarmId in hash, 'keyed by the field it was stored under');
            if (pattern) assert.ok(subjectMatches(pattern, a.path));
          }
          for (let i = 1; i < alarms.length; i++)
            assert.ok((alarms[i - 1]?.raised ?? '') >= (alarms[i]?.raised ?? ''), 'newest first');
        },
      ),
    );
  });
});
