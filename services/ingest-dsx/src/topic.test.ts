import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ContractViolation } from '@busway/runtime';
import { parseBmsTopic, pointKeyOf } from './topic.js';

const level = fc.stringMatching(/^[A-Za-z0-9_.\- ]{1,12}$/);

describe('a DSX Exchange BMS topic', () => {
  it('reads back every valid topic it is given, the tag path with all its levels (fast-check)', () => {
    fc.assert(
      fc.property(
        level,
        fc.constantFrom('Value', 'Metadata'),
        level,
        level,
        fc.array(level, { minLength: 1, maxLength: 6 }),
        (publisher, kind, objectType, pointType, tag) => {
          const t = parseBmsTopic(`BMS/v1/${publisher}/${kind}/${objectType}/${pointType}/${tag.join('/')}`);
          assert.deepEqual(t, { publisher, kind, objectType, pointType, tagPath: tag.join('/') });
          assert.equal(pointKeyOf(t), `${objectType}/${pointType}/${tag.join('/')}`);
        },
      ),
    );
  });

  it('refuses anything else with a contract violation naming the topic, never another error (fast-check)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (topic) => {
        try {
          parseBmsTopic(topic);
        } catch (err) {
          assert.ok(err instanceof ContractViolation, String(err));
          assert.ok(err.message.includes(topic));
        }
      }),
    );
    for (const bad of [
      'BMS/v1/PUB/Value/Meter/Power',
      'BMS/v1/PUB/Other/Meter/Power/x',
      'BMS/v2/PUB/Value/M/P/x',
    ])
      assert.throws(() => parseBmsTopic(bad), ContractViolation);
  });
});
