// Deterministic partitioning of NORM samples with a nats-server account subject mapping (2.8+, works on 2.9).

/** Which UNS tokens form the partition key: everything that must be correlated together shares it. */
export const PartitionKeys = {
  /** site.hall: a hall's racks, power chain and cooling plant stay together. */
  hall: [1, 2],
  /** site.hall.row: a row's racks, its busway and its CDU stay together (the default). */
  row: [1, 2, 3],
  /** site.hall.row.rack: finest; only for rules that never cross a rack (no CDU or busway links). */
  rack: [1, 2, 3, 4],
} as const;
export type PartitionKey = keyof typeof PartitionKeys;

/** The NORM sample subject the normalizer publishes: four wildcards (site, hall, row, rack). */
export const NORM_SAMPLES_SOURCE = 'norm.v1.samples.*.*.*.*';

/**
 * The nats-server `mappings` entries that partition NORM samples into `partitionCount` partitions: the server
 * appends the partition number as a fifth token (`norm.v1.samples.ai1.h1.r1.rack-r1-01.3`), so every consumer
 * of `norm.v1.samples.>` keeps working and a replica filters `norm.v1.samples.*.*.*.*.<p>`. One partition
 * needs no mapping: an empty object.
 */
export function natsPartitionMappings(
  partitionCount: number,
  key: PartitionKey = 'row',
): Record<string, string> {
  if (!Number.isInteger(partitionCount) || partitionCount < 1)
    throw new RangeError(`partitionCount must be a positive integer, got ${partitionCount}`);
  if (partitionCount === 1) return {};
  const wildcards = [1, 2, 3, 4].map((i) => `{{wildcard(${i})}}`).join('.');
  const partition = `{{partition(${partitionCount},${PartitionKeys[key].join(',')})}}`;
  return { [NORM_SAMPLES_SOURCE]: `norm.v1.samples.${wildcards}.${partition}` };
}

/**
 * The same mapping as a nats-server configuration block (`mappings = { ... }`), to paste at the top level of
 * the server config (the global account) or inside an account's block. Empty for one partition.
 */
export function natsPartitionConfig(partitionCount: number, key: PartitionKey = 'row'): string {
  const entries = Object.entries(natsPartitionMappings(partitionCount, key));
  if (entries.length === 0) return '';
  const lines = entries.map(([from, to]) => `  "${from}": "${to}"`);
  return `# busway correlator: ${partitionCount} partitions by ${key}\nmappings = {\n${lines.join('\n')}\n}\n`;
}

/** 32-bit FNV-1a, as nats-server's partition() computes it over the concatenated key tokens. */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  const bytes = Buffer.from(text, 'utf8');
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i] as number;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** The partition the server assigns to a rack subject's tokens [site, hall, row, rack]. */
export function partitionOf(
  tokens: readonly string[],
  partitionCount: number,
  key: PartitionKey = 'row',
): number {
  if (partitionCount <= 1) return 0;
  return fnv1a32(PartitionKeys[key].map((i) => tokens[i - 1] ?? '').join('')) % partitionCount;
}

/** Partitions a replica owns: every `replicas`-th one, so each partition has exactly one owner. */
export function ownedPartitions(partitionCount: number, replicas: number, replicaIndex: number): number[] {
  const owned: number[] = [];
  for (let p = replicaIndex; p < partitionCount; p += replicas) owned.push(p);
  return owned;
}

/** Filter subject of a partition's samples consumer; with one partition, every sample subject (mapped or not). */
export function partitionFilter(partition: number, partitionCount: number): string {
  return partitionCount === 1 ? 'norm.v1.samples.>' : `norm.v1.samples.*.*.*.*.${partition}`;
}

/**
 * The four UNS tokens of a NORM sample subject and the partition suffix the server appended, if any:
 * `norm.v1.samples.ai1.h1.r1.rack-1.2` -> { tokens: [ai1, h1, r1, rack-1], partition: 2 }.
 */
export function parseNormSubject(subject: string): { tokens: string[]; partition?: number } | undefined {
  const parts = subject.split('.');
  if (parts.length < 7 || parts[0] !== 'norm' || parts[2] !== 'samples') return undefined;
  const tokens = parts.slice(3, 7);
  if (parts.length === 7) return { tokens };
  const partition = Number(parts[7]);
  return parts.length === 8 && Number.isInteger(partition) ? { tokens, partition } : undefined;
}

/** The StatefulSet ordinal at the end of a pod's hostname (`correlator-2` -> 2), else undefined. */
export function ordinalOf(hostname: string | undefined): number | undefined {
  const m = /-(\d+)$/.exec(hostname ?? '');
  return m ? Number(m[1]) : undefined;
}
