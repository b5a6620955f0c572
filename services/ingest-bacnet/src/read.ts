import { PropertyIdentifier } from '@bacnet-js/client';
import { messageOf, type Logger } from '@busway/runtime';
import { failureOf, rejectsService } from './bacnet-errors.js';
import type { DeviceConfig, ObjectConfig } from './config.js';
import type { BacnetConnection, ObjectId, ReadAccessResult } from './connection.js';
import { propertyReadOf, type PropertyRead } from './convert.js';
import { objectTypeOf } from './object-types.js';
import { objectKeyOf } from './sample.js';
import type { ObjectReads } from './sampler.js';

const PRESENT_VALUE: number = PropertyIdentifier.PRESENT_VALUE;
const STATUS_FLAGS: number = PropertyIdentifier.STATUS_FLAGS;
const UNITS: number = PropertyIdentifier.UNITS;

/** One cycle's reads of a device. */
export interface DeviceReads {
  /** By object key (`analog-input:1`); an object absent was not reached. */
  reads: Map<string, ObjectReads>;
  /** The answers as they came, for the AUDIT stream. */
  original: unknown[];
  /** Set when the device stopped answering: the objects not in `reads` were not read. */
  unreachable?: string;
}

interface Wanted {
  object: ObjectConfig;
  objectId: ObjectId;
  propertyIds: number[];
}

const sameObject = (a: ObjectId, b: ObjectId) => a.type === b.type && a.instance === b.instance;

function chunksOf<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function assign(reads: ObjectReads, propertyId: number, read: PropertyRead): void {
  if (propertyId === PRESENT_VALUE) reads.presentValue = read;
  else if (propertyId === STATUS_FLAGS) reads.statusFlags = read;
  else reads.units = read;
}

/**
 * Reads PRESENT_VALUE, STATUS_FLAGS and (until known) UNITS of a device's objects with ReadPropertyMultiple, a
 * chunk of objects per request. A chunk the device answers with an error as a whole is read again property by
 * property, so that one bad object cannot hide the others; a device that rejects the service itself is read with
 * ReadProperty from then on.
 */
export class DeviceReader {
  private multiple = true;

  constructor(
    private readonly conn: BacnetConnection,
    private readonly device: DeviceConfig,
    private readonly log: Logger,
  ) {}

  async read(
    objects: readonly ObjectConfig[],
    withUnits: (o: ObjectConfig) => boolean,
  ): Promise<DeviceReads> {
    const out: DeviceReads = { reads: new Map(), original: [] };
    const wanted = objects.map((object) => ({
      object,
      objectId: { type: objectTypeOf(object.type), instance: object.instance },
      propertyIds: withUnits(object) ? [PRESENT_VALUE, STATUS_FLAGS, UNITS] : [PRESENT_VALUE, STATUS_FLAGS],
    }));
    try {
      for (const chunk of chunksOf(wanted, this.device.objectsPerRequest)) {
        if (this.multiple && (await this.readMultiple(chunk, out))) continue;
        await this.readEach(chunk, out);
      }
    } catch (err) {
      if (failureOf(err).kind !== 'timeout') throw err;
      out.unreachable = messageOf(err);
    }
    return out;
  }

  /** False when the device answered the whole request with an error, an abort or nothing it could decode. */
  private async readMultiple(chunk: Wanted[], out: DeviceReads): Promise<boolean> {
    let answer: ReadAccessResult[];
    try {
      answer = await this.conn.readMultiple(
        this.device.address,
        chunk.map((w) => ({ objectId: w.objectId, propertyIds: w.propertyIds })),
        this.device.timeoutMs,
      );
    } catch (err) {
      const failure = failureOf(err);
      if (failure.kind === 'timeout') throw err;
      if (rejectsService(failure)) {
        this.multiple = false;
        this.log.warn(
          { answer: failure.message },
          'device rejects ReadPropertyMultiple: reading one property at a time',
        );
      } else
        this.log.debug({ answer: failure.message }, 'ReadPropertyMultiple failed: reading one at a time');
      return false;
    }
    out.original.push(...answer);
    for (const w of chunk) {
      const result = answer.find((r) => sameObject(r.objectId, w.objectId));
      const reads: ObjectReads = {};
      for (const id of w.propertyIds) {
        const p = result?.properties.find((x) => x.propertyId === id);
        assign(reads, id, p ? propertyReadOf(p.values) : { error: 'nothing for it in the answer' });
      }
      out.reads.set(objectKeyOf(w.object), reads);
    }
    return true;
  }

  private async readEach(chunk: Wanted[], out: DeviceReads): Promise<void> {
    for (const w of chunk) {
      const reads: ObjectReads = {};
      for (const id of w.propertyIds) assign(reads, id, await this.readOne(w, id, out));
      out.reads.set(objectKeyOf(w.object), reads);
    }
  }

  private async readOne(w: Wanted, propertyId: number, out: DeviceReads): Promise<PropertyRead> {
    try {
      const answer = await this.conn.readProperty(
        this.device.address,
        w.objectId,
        propertyId,
        this.device.timeoutMs,
      );
      out.original.push(answer);
      if (!sameObject(answer.objectId, w.objectId) || answer.propertyId !== propertyId)
        return { error: `an answer about another property (${JSON.stringify(answer.objectId)})` };
      return propertyReadOf(answer.values);
    } catch (err) {
      const failure = failureOf(err);
      if (failure.kind === 'timeout') throw err;
      return { error: failure.message };
    }
  }
}
