import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { busway } from '@busway/proto';
import { CompactRegistry, parseSiteModel } from '@busway/registry';
import { DecodeError } from '@busway/runtime';
import { Deadband } from './deadband.js';
import { normalizeBatch } from './normalize-batch.js';
import { SampleNormalizer } from './normalize.js';

const registry = new CompactRegistry(
  parseSiteModel({
    site: 'ai1',
    assets: [{ id: 'cdu-1', class: 'cdu', hall: 'h1', row: 'r1', rack: 'plant-r1' }],
    points: [{ pointId: 'sp:g/cdu-1:Supply', asset: 'cdu-1', metric: 'temperature.coolant.supply' }],
  }),
  1,
);
const normalizer = new SampleNormalizer(registry, 'ai1', { taiUtcOffsetS: 37, maxFutureSkewMs: 5000 });
const normalize = (data: Uint8Array) => normalizeBatch(data, normalizer, new Deadband(60_000).stage());

describe('normalizing a raw message', () => {
  it('calls a message that does not decode a decode error, whatever the generated decoder threw', () => {
    const good = Buffer.from(
      busway.v1.SampleBatch.encode({
        samples: [{ pointId: 'sp:g/cdu-1:Supply', doubleValue: 20, unit: 'Cel' }],
      }).finish(),
    );
    const badUtf8 = Buffer.from(good);
    badUtf8[4] = 0xff; // inside the point id
    const badVarint = Buffer.concat([
      good,
      Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
    ]);
    for (const data of [
      badUtf8,
      good.subarray(0, good.length - 3),
      badVarint,
      Buffer.from([0x0a, 0xff, 0xff]),
    ]) {
      assert.throws(
        () => normalize(data),
        (err: unknown) => err instanceof DecodeError && err.code === 'decode-error',
      );
    }
    assert.equal(normalize(good).out[0]?.count, 1);
  });

  it('dead-letters each rejected sample alone and publishes the rest of the message', () => {
    const data = busway.v1.SampleBatch.encode({
      samples: [
        { pointId: 'sp:g/cdu-1:Supply', doubleValue: 20, unit: 'Cel' },
        { pointId: 'sp:g/cdu-1:Supply', doubleValue: 3, unit: 'kW' },
        { doubleValue: 1 },
      ],
    }).finish();
    const r = normalize(data);
    assert.deepEqual(
      r.out.map((o) => o.count),
      [1],
    );
    assert.deepEqual(
      r.rejected.map((x) => x.reason.code),
      ['unit-mismatch', 'contract-violation'],
    );
    assert.equal(
      busway.v1.SampleBatch.decode(r.rejected[0]?.data ?? new Uint8Array()).samples[0]?.unit,
      'kW',
    );
  });
});
