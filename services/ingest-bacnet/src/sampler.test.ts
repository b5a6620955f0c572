import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApplicationTag, EngineeringUnits, type StatusFlags, StatusFlagsBitString } from '@bacnet-js/client';
import { busway, Long, timeNsFromMs } from '@busway/proto';
import type { PollFault } from '@busway/runtime';
import { DeviceSchema } from './config.js';
import { DeviceSampler } from './sampler.js';

const device = DeviceSchema.parse({
  id: 'ahu-1',
  address: '10.0.0.5',
  deviceInstance: 1001,
  objects: [
    { type: 'analog-input', instance: 1, name: 'supply air' },
    { type: 'binary-value', instance: 2 },
  ],
});
const [temp, fan] = device.objects;
const stamp = { ms: 1_800_000_000_000, ingestTimeNs: timeNsFromMs(1_800_000_000_010) };
const read = (type: ApplicationTag, value: unknown) => ({ values: [{ type, value }] });
const flags = (...bits: StatusFlags[]) => read(ApplicationTag.BIT_STRING, new StatusFlagsBitString(...bits));

describe('a device’s reads as samples', () => {
  it('keeps the unit read once, and stamps the sample with the poll', () => {
    assert.ok(temp && fan);
    const sampler = new DeviceSampler(device);
    assert.equal(sampler.needsUnits(temp), true);
    assert.equal(sampler.needsUnits(fan), false, 'a binary object has no UNITS');
    const faults: PollFault[] = [];
    const first = sampler.sample(
      stamp,
      temp,
      {
        presentValue: read(ApplicationTag.REAL, 21.5),
        statusFlags: flags(),
        units: read(ApplicationTag.ENUMERATED, EngineeringUnits.DEGREES_CELSIUS),
      },
      faults,
    );
    assert.equal(sampler.needsUnits(temp), false);
    const later = sampler.sample(stamp, temp, { presentValue: read(ApplicationTag.REAL, 22) }, faults);
    assert.equal(later.unit, 'degrees-celsius');
    assert.deepEqual(faults, []);
    assert.equal(first.pointId, 'bacnet:ahu-1:analog-input:1');
    assert.equal(first.source?.address, '10.0.0.5:47808/analog-input:1');
    assert.equal(first.eventTimeNs?.toString(), stamp.ms * 1e6 + '');
    assert.equal(first.sequence?.toString(), Long.fromNumber(stamp.ms, true).toString());
    assert.equal(first.quality, busway.v1.Quality.QUALITY_GOOD);
  });

  it('dead-letters a property error once, again only after the object has read well', () => {
    assert.ok(temp);
    const sampler = new DeviceSampler(device);
    const unknown = {
      presentValue: { error: 'object: unknown-object' },
      statusFlags: { error: 'object: unknown-object' },
    };
    const faults: PollFault[] = [];
    const bad = sampler.sample(stamp, temp, unknown, faults);
    sampler.sample(stamp, temp, unknown, faults);
    assert.equal(bad.quality, busway.v1.Quality.QUALITY_BAD);
    assert.deepEqual(bad.flags, ['property-error']);
    assert.equal(faults.length, 1, 'one per object: its other properties fail alike');
    assert.equal(faults[0]?.key, 'analog-input:1/present-value');
    assert.equal(faults[0]?.subject, 'bacnet:10.0.0.5:47808/analog-input:1');
    assert.equal(faults[0]?.reason.code, 'contract-violation');
    assert.match(
      faults[0]?.reason.message ?? '',
      /ahu-1 \(instance 1001\) analog-input:1 'supply air': present-value/,
    );
    sampler.sample(stamp, temp, { presentValue: read(ApplicationTag.REAL, 1) }, faults);
    sampler.sample(stamp, temp, unknown, faults);
    assert.equal(faults.length, 2);
  });

  it('marks a value whose flags did not read UNCERTAIN, an unknown unit, and an unreached device', () => {
    assert.ok(temp);
    const sampler = new DeviceSampler(device);
    const faults: PollFault[] = [];
    const s = sampler.sample(
      stamp,
      temp,
      {
        presentValue: read(ApplicationTag.REAL, 5),
        statusFlags: { error: 'property: unknown-property' },
        units: read(ApplicationTag.ENUMERATED, 9999),
      },
      faults,
    );
    assert.equal(s.doubleValue, 5);
    assert.equal(s.quality, busway.v1.Quality.QUALITY_UNCERTAIN);
    assert.deepEqual(s.flags, ['no-status-flags', 'unknown-unit']);
    assert.equal(s.unit, '');
    assert.deepEqual(
      faults.map((f) => f.key),
      ['analog-input:1/status-flags'],
    );
    const unreached = sampler.sample(stamp, temp, undefined, faults);
    assert.deepEqual(unreached.flags, ['read-failed']);
    assert.equal(unreached.quality, busway.v1.Quality.QUALITY_BAD);
    assert.equal(unreached.doubleValue ?? null, null);
  });
});
