import { MetadataSchema, parseBmsTopic, pointKeyOf, type Metadata } from '@busway/ingest-dsx';
import type { Logger } from '@busway/runtime';
import { CommandRefused, RefusalCode } from '../errors.js';
import type { ResolvedPoint } from '../rules.js';
import { canonicalToSource, sourceToCanonical } from '../units.js';
import type { CommandValue } from '../validate.js';
import type { MqttLink } from './mqtt-link.js';
import type { Adapter, DeliveryPlan } from './types.js';

const PREFIX = 'dsx-bms:';

/**
 * DSX Exchange BMS writes, as the contract's integration publishing rule says: the BMS's metadata of a point
 * names the integration that owns its value; only when it names ours is the value published, on the topic
 * derived from the metadata topic (PUB → our identifier, Metadata → Value) with the contract's value payload
 * `{value, timestamp, quality}`. Points owned by another integration, or by the BMS, are never written.
 */
export class DsxAdapter implements Adapter {
  readonly protocol = 'dsx-bms';
  /** pointKey (objectType/pointType/tagPath) → the BMS's metadata of it. */
  private readonly metadata = new Map<string, Metadata>();

  constructor(
    private readonly link: MqttLink,
    private readonly root: string,
    private readonly integration: string,
    private readonly log: Logger,
  ) {}

  /** Reads the BMS's metadata (retained, so it arrives on subscribe and again every 100 s). */
  async start(): Promise<void> {
    await this.link.subscribe(`${this.root}/PUB/Metadata/#`, (topic, payload) =>
      this.onMetadata(topic, payload),
    );
  }

  private onMetadata(topic: string, payload: Buffer): void {
    try {
      const key = pointKeyOf(parseBmsTopic(topic, this.root));
      if (payload.length === 0) {
        this.metadata.delete(key); // a cleared retained message: the point is gone
        return;
      }
      const meta = MetadataSchema.safeParse(JSON.parse(payload.toString('utf8')));
      if (meta.success) this.metadata.set(key, meta.data);
    } catch (err) {
      this.log.debug(
        { topic, err: (err as Error).message },
        'BMS metadata not readable: ignored (ingest-dsx dead-letters it)',
      );
    }
  }

  async plan(target: ResolvedPoint, value: CommandValue): Promise<DeliveryPlan> {
    if (!target.pointId.startsWith(PREFIX))
      throw new CommandRefused(RefusalCode.NotDeliverable, `${target.pointId} is no dsx-bms point`);
    const key = target.pointId.slice(PREFIX.length);
    const meta = this.metadata.get(key);
    if (!meta)
      throw new CommandRefused(
        RefusalCode.NotDeliverable,
        `the BMS has published no metadata for ${key}: it does not expect a value from us`,
      );
    if (meta.integration !== this.integration)
      throw new CommandRefused(
        RefusalCode.NotDeliverable,
        meta.integration
          ? `the BMS metadata of ${key} names integration '${meta.integration}' as its writer, not '${this.integration}': the contract forbids writing it`
          : `${key} is the BMS's own point (its metadata names no integration): only the BMS publishes its value`,
      );
    if (!this.link.connected)
      throw new CommandRefused(RefusalCode.DeliveryUnavailable, 'the MQTT broker is not connected');
    let sourceValue: number;
    let deliveredValue: CommandValue;
    const unit = meta.engUnit ?? target.unit;
    if (typeof value === 'boolean') {
      sourceValue = value ? 1 : 0; // the contract's value is a number: a state's 0/1
      deliveredValue = value;
    } else {
      sourceValue = canonicalToSource(value, target.metric, unit, target.scale);
      deliveredValue = sourceToCanonical(sourceValue, target.metric, unit, target.scale);
    }
    const states = meta.stateText?.map((s) => s.value);
    if (states && !states.includes(sourceValue))
      throw new CommandRefused(
        RefusalCode.NotRepresentable,
        `${key} is a state (${meta.stateText?.map((s) => `${s.value}=${s.text}`).join(', ')}): ${sourceValue} is none of them`,
      );
    const topic = `${this.root}/${this.integration}/Value/${key}`;
    return {
      protocol: this.protocol,
      address: topic,
      sourceValue,
      sourceUnit: states ? '' : unit,
      deliveredValue,
      send: async (deadlineMs) => {
        const body = JSON.stringify({ value: sourceValue, timestamp: Date.now(), quality: 1 });
        await this.link.publishCommand(topic, Buffer.from(body), deadlineMs);
      },
    };
  }

  async stop(): Promise<void> {
    // the MQTT link is shared and stopped by the worker
  }
}
