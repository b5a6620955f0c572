import type { Plant, RackDef } from '../plant.js';

// The point ids of the simulated rack BMCs, for the site model (no server code: plant.ts imports this).

/** Every rack in plant order, with the port offset of its BMC (redfishPort + index). */
export function racksOf(plant: Plant): RackDef[] {
  return plant.rows.flatMap((r) => r.racks);
}

/** Metric identity the Redfish bridge forms from a MetricProperty: the URI after /redfish/v1/, `#` dropped. */
export const redfishPowerMetric = (node: string) => `Chassis/${node}/Power/PowerControl/0/PowerConsumedWatts`;
export const redfishGpuTempMetric = (node: string, gpu: number) =>
  `Chassis/${node}/Thermal/Temperatures/${gpu}/ReadingCelsius`;

/** The site model's Redfish points: each node's BMC power and each GPU's die temperature, on the node. */
export function redfishPointsOf(
  plant: Plant,
): { pointId: string; asset: string; metric: string; unit: string }[] {
  return racksOf(plant).flatMap((rack) =>
    rack.nodes.flatMap((node) => [
      {
        pointId: `redfish:${rack.id}:${redfishPowerMetric(node)}`,
        asset: node,
        metric: 'power.active.bmc',
        unit: 'W',
      },
      ...Array.from({ length: plant.gpusPerNode }, (_, g) => ({
        pointId: `redfish:${rack.id}:${redfishGpuTempMetric(node, g)}`,
        asset: node,
        metric: `temperature.gpu.die.gpu${g}`,
        unit: 'Cel',
      })),
    ]),
  );
}
