import type { SiteModel } from '@busway/registry';
import { groupOf, type SimulatorConfig } from './config.js';
import { redfishPointsOf } from './redfish/points.js';
import { gpuAssetsOf } from './dcgm/gpu-assets.js';

/** Sparkplug datatypes used by the simulator (Sparkplug 3.0, table 6.4.16). */
export const DataType = { Double: 10, Boolean: 11, String: 12 } as const;

/** One published metric of a device: its Sparkplug name, source unit and taxonomy name. */
export interface PointDef {
  name: string;
  unit: string;
  metric: string;
  kind: 'power' | 'thermal';
}

export interface DeviceDef {
  id: string;
  /** Edge node (one gateway per row) the device publishes through. */
  edge: string;
  points: PointDef[];
}

export interface RackDef {
  id: string;
  row: string;
  pdu: string;
  tap: string;
  sensor: string;
  nodes: string[];
}

export interface RowDef {
  id: string;
  edge: string;
  busway: string;
  cdu: string;
  area: string;
  racks: RackDef[];
}

export interface Plant {
  site: string;
  hall: string;
  group: string;
  gpusPerNode: number;
  rows: RowDef[];
  devices: DeviceDef[];
}

const pad = (n: number) => String(n).padStart(2, '0');

const PDU_POINTS: PointDef[] = [
  { name: 'Power/Active', unit: 'kW', metric: 'power.active', kind: 'power' },
  { name: 'Voltage/L1', unit: 'V', metric: 'voltage.l1', kind: 'thermal' },
];
const BUSWAY_POINTS: PointDef[] = [
  { name: 'Power/Active', unit: 'kW', metric: 'power.active', kind: 'power' },
];
const CDU_POINTS: PointDef[] = [
  { name: 'Coolant/Supply Temp', unit: 'degC', metric: 'temperature.coolant.supply', kind: 'thermal' },
  { name: 'Coolant/Return Temp', unit: 'degC', metric: 'temperature.coolant.return', kind: 'thermal' },
  { name: 'Coolant/Flow', unit: 'LPM', metric: 'flow.coolant', kind: 'thermal' },
  {
    name: 'Coolant/Differential Pressure',
    unit: 'kPa',
    metric: 'pressure.coolant.differential',
    kind: 'thermal',
  },
  { name: 'Pump/Current', unit: 'A', metric: 'current.pump', kind: 'thermal' },
];
const SENSOR_POINTS: PointDef[] = [
  { name: 'Air/Inlet Temp', unit: 'degF', metric: 'temperature.air.inlet', kind: 'thermal' },
];
const NODE_POINTS: PointDef[] = [
  { name: 'Power/Input', unit: 'kW', metric: 'power.active', kind: 'thermal' },
  { name: 'GPU/Utilization', unit: '%', metric: 'utilization.gpu', kind: 'thermal' },
];

/** The plant's topology, from the config alone (no randomness). */
export function buildPlant(config: SimulatorConfig): Plant {
  const rows: RowDef[] = [];
  const devices: DeviceDef[] = [];
  for (let r = 1; r <= config.rows; r++) {
    const row = `r${r}`;
    const edge = `row-${row}-gw`;
    const racks: RackDef[] = [];
    for (let k = 1; k <= config.racksPerRow; k++) {
      const id = `rack-${row}-${pad(k)}`;
      const nodes = Array.from({ length: config.nodesPerRack }, (_, n) => `node-${row}-${pad(k)}-${n + 1}`);
      racks.push({
        id,
        row,
        pdu: `pdu-${row}-${pad(k)}`,
        tap: `tap-${row}-${pad(k)}`,
        sensor: `sensor-${row}-${pad(k)}-inlet`,
        nodes,
      });
    }
    const def: RowDef = {
      id: row,
      edge,
      busway: `busway-${row}`,
      cdu: `cdu-${row}`,
      area: `plant-${row}`,
      racks,
    };
    rows.push(def);
    devices.push({ id: def.busway, edge, points: BUSWAY_POINTS }, { id: def.cdu, edge, points: CDU_POINTS });
    for (const rack of racks) {
      devices.push(
        { id: rack.pdu, edge, points: PDU_POINTS },
        { id: rack.sensor, edge, points: SENSOR_POINTS },
      );
      for (const node of rack.nodes) devices.push({ id: node, edge, points: NODE_POINTS });
    }
  }
  return {
    site: config.site,
    hall: config.hall,
    group: groupOf(config),
    gpusPerNode: config.gpusPerNode,
    rows,
    devices,
  };
}

/** The point id the Sparkplug ingest forms for a device metric. */
export function pointIdOf(plant: Plant, device: DeviceDef, name: string): string {
  return `sparkplug:${plant.group}/${device.edge}/${device.id}:${name}`;
}

/** The registry's view of the plant: assets with power chain and cooling topology, and every published point. */
export function buildSiteModel(config: SimulatorConfig): SiteModel {
  const plant = buildPlant(config);
  const hall = plant.hall;
  const assets: SiteModel['assets'] = [];
  for (const row of plant.rows) {
    assets.push({
      id: row.busway,
      class: 'busway',
      hall,
      row: row.id,
      rack: row.area,
      feeds: row.racks.map((r) => r.tap),
      cools: [],
    });
    assets.push({
      id: row.cdu,
      class: 'cdu',
      hall,
      row: row.id,
      rack: row.area,
      feeds: [],
      cools: row.racks.map((r) => r.id),
    });
    for (const rack of row.racks) {
      assets.push({ id: rack.id, class: 'rack', hall, row: row.id, rack: rack.id, feeds: [], cools: [] });
      assets.push({
        id: rack.tap,
        class: 'tap',
        hall,
        row: row.id,
        rack: rack.id,
        feeds: [rack.pdu],
        cools: [],
      });
      assets.push({
        id: rack.pdu,
        class: 'pdu',
        hall,
        row: row.id,
        rack: rack.id,
        feeds: rack.nodes,
        cools: [],
        parent: rack.id,
      });
      assets.push({
        id: rack.sensor,
        class: 'sensor',
        hall,
        row: row.id,
        rack: rack.id,
        feeds: [],
        cools: [],
        parent: rack.id,
      });
      for (const node of rack.nodes)
        assets.push({
          id: node,
          class: 'node',
          hall,
          row: row.id,
          rack: rack.id,
          feeds: [],
          cools: [],
          parent: rack.id,
        });
    }
  }
  const points = plant.devices.flatMap((d) =>
    d.points.map((p) => ({
      pointId: pointIdOf(plant, d, p.name),
      asset: d.id,
      metric: p.metric,
      unit: p.unit,
    })),
  );
  points.push(...redfishPointsOf(plant));
  assets.push(...gpuAssetsOf(plant));
  return { site: plant.site, assets, points };
}
