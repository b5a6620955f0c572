import type { Asset, Contribution, Registry } from '@busway/registry';
import type { GpuSeen } from './samples.js';

/**
 * The registry's node for a host name: the asset with that id, else with the short name's id (`gpu07` for
 * `gpu07.cluster.local`), else the node asset whose `name` is the host name.
 */
export function nodeAssetOf(registry: Registry, host: string): Asset | undefined {
  const direct = registry.asset(host);
  if (direct) return direct;
  const short = host.split('.', 1)[0] ?? host;
  const byShort = short !== host ? registry.asset(short) : undefined;
  if (byShort) return byShort;
  return registry.assetsOfClass('node').find((a) => a.name === host || a.name === short);
}

/**
 * The GPU asset of a node's GPU: `<node>-gpu<index>` when the registry has it, else a child of the node of
 * class gpu named by the GPU's UUID or `gpu<index>`; undefined when the registry has none yet.
 */
export function gpuAssetOf(registry: Registry, node: Asset, gpu: GpuSeen): Asset | undefined {
  const byId = registry.asset(`${node.id}-gpu${gpu.index}`);
  if (byId) return byId;
  return registry
    .childrenOf(node.id)
    .find((a) => a.class === 'gpu' && (a.name === gpu.uuid || a.name === `gpu${gpu.index}`));
}

export interface GpuContribution {
  contribution: Contribution;
  /** Hosts the registry has no node for: their GPUs stay unregistered until it learns them. */
  unknownHosts: string[];
}

/**
 * What the registry lacks to place these GPUs: a GPU asset under its node (same hall, row and rack, `parent` =
 * node, `name` = its UUID) when it has none, and every point not yet registered to that asset with that metric.
 * Empty when the registry already knows everything.
 */
export function gpuContribution(registry: Registry, gpus: readonly GpuSeen[]): GpuContribution {
  const assets: Contribution['assets'] = [];
  const points: Contribution['points'] = [];
  const unknownHosts = new Set<string>();
  for (const gpu of gpus) {
    const node = nodeAssetOf(registry, gpu.host);
    if (!node) {
      unknownHosts.add(gpu.host);
      continue;
    }
    let assetId = gpuAssetOf(registry, node, gpu)?.id;
    if (!assetId) {
      assetId = `${node.id}-gpu${gpu.index}`;
      assets.push({
        id: assetId,
        class: 'gpu',
        hall: node.hall,
        row: node.row,
        rack: node.rack,
        name: gpu.uuid ?? `gpu${gpu.index}`,
        feeds: [],
        cools: [],
        parent: node.id,
      });
    }
    for (const p of gpu.points) {
      const known = registry.point(p.pointId);
      if (known?.asset === assetId && known.metric === p.metric) continue;
      points.push({
        pointId: p.pointId,
        asset: assetId,
        metric: p.metric,
        ...(p.unit ? { unit: p.unit } : {}),
      });
    }
  }
  return { contribution: { assets, points }, unknownHosts: [...unknownHosts] };
}
