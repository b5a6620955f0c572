import type { MappingRule } from './rules.js';

/**
 * LoRaWAN uplinks as ChirpStack v4's MQTT integration publishes them (`application/{id}/device/{devEui}/event/up`,
 * JSON marshaler): every field the device codec decoded into `object`, and the best gateway's RSSI and SNR.
 */
export const CHIRPSTACK_V4: MappingRule = {
  name: 'chirpstack-v4',
  topic: 'application/{applicationId}/device/{devEui}/event/up',
  source: 'lorawan/{devEui}',
  time: 'time',
  sequence: 'fCnt',
  fields: 'object',
  samples: [
    { name: 'rssi', value: 'rxInfo[0].rssi', unit: 'dB[mW]', optional: true },
    { name: 'snr', value: 'rxInfo[0].snr', unit: 'dB', optional: true },
  ],
  derive: {},
};

/**
 * BLE gateways that publish a JSON array of tag sightings (`[{ "mac", "rssi", "timestamp" }, …]`, as Minew-style
 * gateways do) on `ble/{gateway}/report`. Each tag becomes a source with its RSSI and the zone of the reader that
 * saw it: the asset-tracking case (where is the calibrated torque wrench?). Zones come from `bleZones`.
 */
export function bleGateway(zones: Record<string, string>): MappingRule {
  return {
    name: 'ble-gateway',
    topic: 'ble/{gateway}/report',
    each: '$',
    source: 'ble/{$.mac}',
    time: 'timestamp',
    samples: [
      { name: 'rssi', value: 'rssi', unit: 'dB[mW]', optional: false },
      { name: 'zone', text: '{zone}', optional: false },
      { name: 'reader', text: '{gateway}', optional: false },
    ],
    derive: { zone: { from: 'gateway', map: zones } },
  };
}
