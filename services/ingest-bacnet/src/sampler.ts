import { busway } from '@busway/proto';
import { ContractViolation, type PollFault } from '@busway/runtime';
import type { DeviceConfig, ObjectConfig } from './config.js';
import {
  sampleValueOf,
  statusOf,
  unitOf,
  type PropertyRead,
  type SampleValue,
  type Status,
} from './convert.js';
import { objectFault } from './fault.js';
import { hasUnits } from './object-types.js';
import { badSample, goodSample, objectKeyOf, type Stamp } from './sample.js';

/** The properties read of one object (by a poll or a COV notification); one not read this time is absent. */
export interface ObjectReads {
  presentValue?: PropertyRead;
  statusFlags?: PropertyRead;
  units?: PropertyRead;
}

type Property = 'present-value' | 'status-flags' | 'units';

const valuesOf = (read: PropertyRead) => ('values' in read ? read.values : undefined);

/**
 * Turns one device's reads into samples. Remembers what is read only once (each object's unit) and which faults
 * were dead-lettered: a property that stays wrong is dead-lettered once, and again only after it has read well.
 */
export class DeviceSampler {
  private readonly units = new Map<string, { name: string; known: boolean }>();
  private readonly reported = new Set<string>();

  constructor(private readonly device: DeviceConfig) {}

  /** UNITS is read until it has been read once. */
  needsUnits(object: ObjectConfig): boolean {
    return hasUnits(object.type) && !this.units.has(objectKeyOf(object));
  }

  /** The object's sample, its faults added to `faults`; `reads` undefined: the device was not reached. */
  sample(
    stamp: Stamp,
    object: ObjectConfig,
    reads: ObjectReads | undefined,
    faults: PollFault[],
  ): busway.v1.ISample {
    const known = () => this.units.get(objectKeyOf(object));
    const pv = reads?.presentValue;
    if (!pv) return badSample(stamp, this.device, object, known()?.name ?? '', 'read-failed');
    let value: SampleValue;
    try {
      if ('error' in pv) throw new ContractViolation(`present-value: the device answered ${pv.error}`);
      value = sampleValueOf(object.type, pv.values);
    } catch (err) {
      if (!(err instanceof ContractViolation)) throw err;
      // one dead letter per object: an unknown object also fails its other properties
      this.fault(faults, object, 'present-value', err, valuesOf(pv));
      const flag = 'error' in pv ? 'property-error' : 'unsupported-value';
      return badSample(stamp, this.device, object, known()?.name ?? '', flag);
    }
    this.reported.delete(`${objectKeyOf(object)}/present-value`);
    if (reads.units) this.takeUnits(object, reads.units, faults);
    const unit = known();
    const unitName = unit?.name ?? '';
    const status = this.statusOf(object, reads.statusFlags, faults);
    if (unit && !unit.known) status.flags.push('unknown-unit');
    return goodSample(stamp, this.device, object, unitName, value, status);
  }

  private statusOf(object: ObjectConfig, read: PropertyRead | undefined, faults: PollFault[]): Status {
    if (!read) return { quality: busway.v1.Quality.QUALITY_GOOD, flags: [] };
    try {
      if ('error' in read) throw new ContractViolation(`status-flags: the device answered ${read.error}`);
      const status = statusOf(read.values);
      this.reported.delete(`${objectKeyOf(object)}/status-flags`);
      return status;
    } catch (err) {
      if (!(err instanceof ContractViolation)) throw err;
      this.fault(faults, object, 'status-flags', err, valuesOf(read));
      // the value was read; without its flags the device does not tell whether it vouches for it
      return { quality: busway.v1.Quality.QUALITY_UNCERTAIN, flags: ['no-status-flags'] };
    }
  }

  private takeUnits(object: ObjectConfig, read: PropertyRead, faults: PollFault[]): void {
    try {
      if ('error' in read) throw new ContractViolation(`units: the device answered ${read.error}`);
      this.units.set(objectKeyOf(object), unitOf(read.values));
      this.reported.delete(`${objectKeyOf(object)}/units`);
    } catch (err) {
      if (!(err instanceof ContractViolation)) throw err;
      this.fault(faults, object, 'units', err, valuesOf(read));
    }
  }

  private fault(
    faults: PollFault[],
    object: ObjectConfig,
    property: Property,
    err: ContractViolation,
    answer: unknown,
  ): void {
    const fault = objectFault(this.device, object, property, err.message, answer);
    if (this.reported.has(fault.key)) return;
    this.reported.add(fault.key);
    faults.push(fault);
  }
}
