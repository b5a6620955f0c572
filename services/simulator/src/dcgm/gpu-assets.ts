import type { SiteModel } from '@busway/registry';
import type { Plant } from '../plant.js';

// The plant's GPUs as registry assets (no server code: plant.ts imports this).

/** A deterministic GPU UUID for a node and index (the simulator needs stable identities, not random ones). */
export function gpuUuidOf(hostname: string, index: number): string {
  let h = 0x811c9dc5;
  const hex: string[] = [];
  for (let round = 0; round < 4; round++) {
    for (const c of `${hostname}/${index}/${round}`) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
    hex.push(h.toString(16).padStart(8, '0'));
  }
  const s = hex.join('');
  return `GPU-${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20, 32)}`;
}

/** Every GPU of the plant: `<node>-gpu<N>`, class gpu, in its node's rack, `parent` = node, named by its UUID. */
export function gpuAssetsOf(plant: Plant): SiteModel['assets'] {
  return plant.rows.flatMap((row) =>
    row.racks.flatMap((rack) =>
      rack.nodes.flatMap((node) =>
        Array.from({ length: plant.gpusPerNode }, (_, i) => ({
          id: `${node}-gpu${i}`,
          class: 'gpu',
          hall: plant.hall,
          row: row.id,
          rack: rack.id,
          name: gpuUuidOf(node, i),
          feeds: [],
          cools: [],
          parent: node,
        })),
      ),
    ),
  );
}
