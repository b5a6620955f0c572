import type { Attributes } from '@opentelemetry/api';
import type { busway } from '@busway/proto';
import type { Asset } from '@busway/registry';

/** What the registry knows of an asset that resource attributes carry. */
export type AssetLookup = (assetId: string) => Pick<Asset, 'name' | 'parent' | 'class'> | undefined;

/**
 * Resource attributes of one asset: where it stands (site → asset), and from the registry its name and
 * parent. A node and its GPUs carry `host.name` (the node), so plant, server and GPU telemetry of the same
 * machine meet in one observability backend.
 */
export function resourceAttributesOf(
  serviceName: string,
  path: busway.v1.IUnsPath,
  lookup: AssetLookup | undefined,
): Attributes {
  const asset = path.asset ?? '';
  const assetClass = path.assetClass ?? '';
  const attrs: Attributes = {
    'service.name': serviceName,
    'busway.site': path.site ?? '',
    'busway.hall': path.hall ?? '',
    'busway.row': path.row ?? '',
    'busway.rack': path.rack ?? '',
    'busway.asset.class': assetClass,
    'busway.asset.id': asset,
  };
  const known = lookup?.(asset);
  if (known?.name) attrs['busway.asset.name'] = known.name;
  if (known?.parent) attrs['busway.asset.parent'] = known.parent;
  if (assetClass === 'node') attrs['host.name'] = asset;
  else if (assetClass === 'gpu' && known?.parent) attrs['host.name'] = known.parent;
  return attrs;
}

/** One key per resource: the UNS path of the asset. */
export function resourceKeyOf(path: busway.v1.IUnsPath): string {
  return `${path.site}/${path.hall}/${path.row}/${path.rack}/${path.assetClass}/${path.asset}`;
}
