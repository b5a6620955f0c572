import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSiteModel, Registry } from '@busway/registry';
import { gpuContribution, nodeAssetOf } from './gpu-registry.js';
import type { GpuSeen } from './samples.js';

const registry = (extra: { assets?: unknown[]; points?: unknown[] } = {}) =>
  new Registry(
    parseSiteModel({
      site: 'ai1',
      assets: [
        { id: 'rack-1', class: 'rack', hall: 'h1', row: 'r1', rack: 'rack-1' },
        { id: 'gpu07', class: 'node', hall: 'h1', row: 'r1', rack: 'rack-1', parent: 'rack-1' },
        { id: 'n-8', class: 'node', hall: 'h1', row: 'r1', rack: 'rack-1', name: 'gpu08.cluster.local' },
        ...(extra.assets ?? []),
      ],
      points: extra.points ?? [],
    }),
    1,
  );

const gpu = (host: string, index: number, metrics: string[] = ['power.gpu']): GpuSeen => ({
  host,
  index,
  uuid: `GPU-${host}-${index}`,
  points: metrics.map((metric) => ({ pointId: `dcgm:${host}:gpu${index}/${metric}`, metric, unit: 'W' })),
});

describe('GPUs placed in the registry', () => {
  it('finds a node by id, by short host name, or by its name', () => {
    const r = registry();
    assert.equal(nodeAssetOf(r, 'gpu07')?.id, 'gpu07');
    assert.equal(nodeAssetOf(r, 'gpu07.cluster.local')?.id, 'gpu07');
    assert.equal(nodeAssetOf(r, 'gpu08.cluster.local')?.id, 'n-8');
    assert.equal(nodeAssetOf(r, 'gpu99'), undefined);
  });

  it("adds a GPU asset in its node's rack and its points, and names hosts the registry does not know", () => {
    const { contribution, unknownHosts } = gpuContribution(registry(), [gpu('gpu07', 3), gpu('gpu99', 0)]);
    assert.deepEqual(contribution.assets, [
      {
        id: 'gpu07-gpu3',
        class: 'gpu',
        hall: 'h1',
        row: 'r1',
        rack: 'rack-1',
        name: 'GPU-gpu07-3',
        feeds: [],
        cools: [],
        parent: 'gpu07',
      },
    ]);
    assert.deepEqual(contribution.points, [
      { pointId: 'dcgm:gpu07:gpu3/power.gpu', asset: 'gpu07-gpu3', metric: 'power.gpu', unit: 'W' },
    ]);
    assert.deepEqual(unknownHosts, ['gpu99']);
  });

  it('uses a GPU the site model lists, by id or by UUID, and adds nothing it already knows', () => {
    const listed = registry({
      assets: [
        { id: 'gpu07-gpu0', class: 'gpu', hall: 'h1', row: 'r1', rack: 'rack-1', parent: 'gpu07' },
        {
          id: 'h100-a',
          class: 'gpu',
          hall: 'h1',
          row: 'r1',
          rack: 'rack-1',
          parent: 'gpu07',
          name: 'GPU-gpu07-1',
        },
      ],
      points: [{ pointId: 'dcgm:gpu07:gpu0/power.gpu', asset: 'gpu07-gpu0', metric: 'power.gpu' }],
    });
    const { contribution } = gpuContribution(listed, [
      gpu('gpu07', 0, ['power.gpu', 'temperature.gpu.die']),
      gpu('gpu07', 1),
    ]);
    assert.deepEqual(contribution.assets, []);
    assert.deepEqual(
      contribution.points.map((p) => [p.pointId, p.asset]),
      [
        ['dcgm:gpu07:gpu0/temperature.gpu.die', 'gpu07-gpu0'],
        ['dcgm:gpu07:gpu1/power.gpu', 'h100-a'],
      ],
    );
  });
});
