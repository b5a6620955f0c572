import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { startRedis, waitFor, type TestServer } from '@busway/testkit';
import { Registry } from './registry.js';
import { parseSiteModel } from './site-model.js';
import { RegistryClient, publishSiteModel } from './store.js';

const model = parseSiteModel({
  site: 'ai1',
  assets: [
    { id: 'bus-1', class: 'busway', hall: 'h1', feeds: ['tap-1'] },
    { id: 'tap-1', class: 'tap', hall: 'h1', row: 'r1', feeds: ['rack-1'] },
    { id: 'rack-1', class: 'rack', hall: 'h1', row: 'r1', rack: 'rack-1' },
    { id: 'node-1', class: 'node', hall: 'h1', row: 'r1', rack: 'rack-1' },
    { id: 'cdu-1', class: 'cdu', hall: 'h1', row: 'r1', rack: 'plant-1', cools: ['rack-1'] },
  ],
  points: [
    {
      pointId: 'sparkplug:g/cdu-1:Supply Temp',
      asset: 'cdu-1',
      metric: 'temperature.coolant.supply',
      unit: 'Cel',
    },
  ],
});

describe('registry', () => {
  it('walks the power chain up from a rack, nearest feeder first', () => {
    const r = new Registry(model, 1);
    assert.deepEqual(
      r.feedersOf('rack-1').map((a) => a.id),
      ['tap-1', 'bus-1'],
    );
    assert.deepEqual(
      r.coolersOf('rack-1').map((a) => a.id),
      ['cdu-1'],
    );
    assert.equal(r.rackOf('node-1'), 'rack-1');
    assert.deepEqual(r.pathOf('cdu-1'), {
      site: 'ai1',
      hall: 'h1',
      row: 'r1',
      rack: 'plant-1',
      assetClass: 'cdu',
      asset: 'cdu-1',
    });
  });

  it('rejects a model that refers to an unknown asset, naming the path', () => {
    assert.throws(
      () => parseSiteModel({ site: 's', assets: [{ id: 'a', class: 'rack', hall: 'h', feeds: ['ghost'] }] }),
      /assets\.0: a refers to unknown asset ghost/,
    );
  });

  describe('in Redis', () => {
    let redis: TestServer;
    let conn: Redis;
    before(async () => {
      redis = await startRedis();
      conn = new Redis(redis.url);
    });
    after(async () => {
      conn.disconnect();
      await redis.dispose();
    });

    it('reloads every client when a new model is published', async () => {
      const client = await RegistryClient.connect(redis.url, 'ai1');
      assert.equal(client.registry.version, 0);
      assert.equal(client.registry.point('sparkplug:g/cdu-1:Supply Temp'), undefined);
      await publishSiteModel(conn, model);
      await waitFor('client reload', () => client.registry.version === 1);
      assert.equal(
        client.registry.point('sparkplug:g/cdu-1:Supply Temp')?.metric,
        'temperature.coolant.supply',
      );
      await client.close();
    });
  });
});
