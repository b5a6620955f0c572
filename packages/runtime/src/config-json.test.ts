import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { z } from 'zod';
import { fromJson } from './config-json.js';

const Devices = z.preprocess(fromJson('array of devices'), z.array(z.object({ id: z.string() })));

describe('a list-valued config key', () => {
  it('reads JSON from a string and takes a list from the config file as it is', () => {
    assert.deepEqual(Devices.parse('[{"id":"a"}]'), [{ id: 'a' }]);
    assert.deepEqual(Devices.parse([{ id: 'b' }]), [{ id: 'b' }]);
  });

  it('turns any string that is not JSON into an issue naming what was expected, never a throw', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        let isJson = true;
        try {
          JSON.parse(s);
        } catch {
          isJson = false;
        }
        const r = Devices.safeParse(s);
        if (!isJson) {
          assert.equal(r.success, false);
          assert.match(r.error?.issues[0]?.message ?? '', /^not a JSON array of devices: /);
        }
      }),
    );
  });
});
