import { ErrorCode, type PollFault } from '@busway/runtime';
import type { DeviceConfig, ObjectConfig } from './config.js';
import { objectKeyOf, sourceAddressOf } from './sample.js';

/**
 * A device answer that will not change by asking again (an unknown object, a property error, a value that cannot
 * be a sample, a refused subscription): dead-lettered with what was asked and what came back.
 */
export function objectFault(
  device: DeviceConfig,
  object: ObjectConfig,
  what: string,
  problem: string,
  answer?: unknown,
): PollFault {
  const named = object.name ? ` '${object.name}'` : '';
  return {
    key: `${objectKeyOf(object)}/${what}`,
    subject: `bacnet:${sourceAddressOf(device, object)}`,
    detail: {
      device: device.id,
      deviceInstance: device.deviceInstance,
      address: device.address,
      object: objectKeyOf(object),
      name: object.name,
      what,
      answer,
    },
    reason: {
      code: ErrorCode.Contract,
      message: `device ${device.id} (instance ${device.deviceInstance}) ${objectKeyOf(object)}${named}: ${problem}`,
    },
  };
}
