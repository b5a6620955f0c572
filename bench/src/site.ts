import { busway, Long, timeNsFromMs } from '@busway/proto';
import { CompactRegistry, parseSiteModel, type SiteModel } from '@busway/registry';

/** Points of one rack: what a row gateway reports for it, in the units real sources use. */
const RACK_POINTS: { name: string; metric: string; unit: string; value: () => number }[] = [
  { name: 'PDU/Power', metric: 'power.active', unit: 'kW', value: () => 20 + Math.random() * 80 },
  { name: 'PDU/Voltage L1', metric: 'voltage.l1', unit: 'V', value: () => 228 + Math.random() * 4 },
  { name: 'PDU/Current L1', metric: 'current.l1', unit: 'A', value: () => 30 + Math.random() * 50 },
  { name: 'Inlet Temp', metric: 'temperature.air.inlet', unit: 'degF', value: () => 75 + Math.random() * 5 },
  {
    name: 'Outlet Temp',
    metric: 'temperature.air.outlet',
    unit: 'degC',
    value: () => 35 + Math.random() * 5,
  },
  { name: 'Humidity', metric: 'humidity.relative', unit: '%RH', value: () => 40 + Math.random() * 10 },
  { name: 'Manifold Flow', metric: 'flow.coolant', unit: 'LPM', value: () => 40 + Math.random() * 5 },
  {
    name: 'Manifold dP',
    metric: 'pressure.coolant.differential',
    unit: 'psi',
    value: () => 15 + Math.random(),
  },
];
const NODE_POINTS = [
  { name: 'Power', metric: 'power.active', unit: 'W', value: () => 1500 + Math.random() * 5000 },
  { name: 'GPU Util', metric: 'utilization.gpu', unit: '%', value: () => Math.random() * 100 },
  { name: 'GPU Temp', metric: 'temperature.gpu.die', unit: 'Cel', value: () => 40 + Math.random() * 40 },
  { name: 'CPU Temp', metric: 'temperature.cpu', unit: 'Cel', value: () => 40 + Math.random() * 30 },
];
const NODES_PER_RACK = 8;
export const POINTS_PER_RACK = RACK_POINTS.length + NODES_PER_RACK * NODE_POINTS.length;

interface BenchPoint {
  pointId: string;
  unit: string;
  sourceId: string;
  value: () => number;
}

/**
 * A site with at least `points` registered points (rows of 10 racks of 8 nodes), and its point list; the registry
 * in the form the normalizer holds it.
 */
export function buildSite(points: number): {
  registry: CompactRegistry;
  points: BenchPoint[];
  model: SiteModel;
} {
  const racks = Math.ceil(points / POINTS_PER_RACK);
  const assets: SiteModel['assets'] = [];
  const modelPoints: SiteModel['points'] = [];
  const list: BenchPoint[] = [];
  for (let r = 0; r < racks; r++) {
    const row = `r${Math.floor(r / 10)}`;
    const rack = `rack-${r}`;
    const gw = `gw-${row}`;
    assets.push({ id: rack, class: 'rack', hall: 'h1', row, rack, feeds: [], cools: [] });
    const add = (asset: string, p: (typeof RACK_POINTS)[number], deadband?: number) => {
      const sourceId = `bench/${gw}/${asset}`;
      const pointId = `sparkplug:${sourceId}:${p.name}`;
      modelPoints.push({ pointId, asset, metric: p.metric, ...(deadband ? { deadband } : {}) });
      list.push({ pointId, unit: p.unit, sourceId, value: p.value });
    };
    // every tenth rack reports by exception on its temperatures, as a BMS integration often does
    for (const p of RACK_POINTS)
      add(rack, p, r % 10 === 0 && p.metric.startsWith('temperature') ? 0.5 : undefined);
    for (let n = 0; n < NODES_PER_RACK; n++) {
      const node = `node-${r}-${n}`;
      assets.push({ id: node, class: 'node', hall: 'h1', row, rack, parent: rack, feeds: [], cools: [] });
      for (const p of NODE_POINTS) add(node, p);
    }
  }
  const model = parseSiteModel({ site: 'bench', assets, points: modelPoints });
  return { registry: new CompactRegistry(model, 1), points: list, model };
}

/**
 * Encoded raw SampleBatch messages as a bridge sends them: `batchSize` consecutive points (one gateway's
 * racks), each sample with device time, ingest time and a sequence.
 */
export function rawMessages(points: BenchPoint[], batchSize: number, count: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  const t0 = Date.now();
  let i = 0;
  for (let m = 0; m < count; m++) {
    const samples: busway.v1.ISample[] = [];
    for (let k = 0; k < batchSize; k++, i++) {
      const p = points[i % points.length] as BenchPoint;
      const t = t0 + m * 10;
      samples.push({
        pointId: p.pointId,
        doubleValue: p.value(),
        unit: p.unit,
        eventTimeNs: timeNsFromMs(t),
        ingestTimeNs: timeNsFromMs(t + 3),
        clockSource: busway.v1.ClockSource.CLOCK_SOURCE_DEVICE,
        quality: busway.v1.Quality.QUALITY_GOOD,
        source: { protocol: 'sparkplug', sourceId: p.sourceId, address: `spBv1.0/${p.sourceId}` },
        sequence: Long.fromNumber(t, true),
      });
    }
    out.push(busway.v1.SampleBatch.encode({ samples }).finish());
  }
  return out;
}
