import type { JetStreamClient } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { Long, org } from '@busway/proto';
import { CommandRefused, RefusalCode } from '../errors.js';
import type { ResolvedPoint } from '../rules.js';
import { canonicalToSource, sourceToCanonical } from '../units.js';
import type { CommandValue } from '../validate.js';
import type { MqttLink } from './mqtt-link.js';
import {
  commandMetric,
  datatypeName,
  isWritableDatatype,
  quantizeSparkplug,
  type BirthMetric,
} from './sparkplug-encode.js';
import { splitPointId, type Adapter, type DeliveryPlan } from './types.js';

/** A birth as ingest-sparkplug stores it: KV key base64url(<group>/<edge>[/<device>]), value JSON. */
export interface StoredBirth {
  metrics: BirthMetric[];
}

/**
 * Sparkplug B writes: an NCMD (node metric) or DCMD (device metric) with the metric's alias or name and its
 * datatype from the birth certificate, which ingest-sparkplug keeps in its KV bucket. A metric the last birth
 * does not declare, or of a datatype that holds no setpoint, is refused before anything is sent.
 */
export class SparkplugAdapter implements Adapter {
  readonly protocol = 'sparkplug';
  private kv?: KV;

  constructor(
    private readonly link: MqttLink,
    private readonly js: JetStreamClient,
    private readonly bucket: string,
  ) {}

  private async birthOf(sourceId: string): Promise<StoredBirth | undefined> {
    this.kv ??= await new Kvm(this.js).open(this.bucket);
    let entry;
    try {
      entry = await this.kv.get(Buffer.from(sourceId, 'utf8').toString('base64url'));
    } catch (err) {
      throw new CommandRefused(
        RefusalCode.DeliveryUnavailable,
        `births unreadable (KV bucket ${this.bucket}; is ingest-sparkplug running?): ${(err as Error).message}`,
      );
    }
    if (!entry || entry.operation !== 'PUT') return undefined;
    try {
      return entry.json<StoredBirth>();
    } catch {
      return undefined;
    }
  }

  async plan(target: ResolvedPoint, value: CommandValue): Promise<DeliveryPlan> {
    const id = splitPointId(target.pointId);
    const parts = id?.sourceId.split('/') ?? [];
    if (!id || parts.length < 2 || parts.length > 3)
      throw new CommandRefused(
        RefusalCode.NotDeliverable,
        `${target.pointId} is no Sparkplug point id (sparkplug:<group>/<edge>[/<device>]:<metric>)`,
      );
    const [group, edge, device] = parts as [string, string, string | undefined];
    if (!this.link.connected)
      throw new CommandRefused(RefusalCode.DeliveryUnavailable, 'the MQTT broker is not connected');
    const birth = await this.birthOf(id.sourceId);
    if (!birth)
      throw new CommandRefused(
        RefusalCode.NotDeliverable,
        `no birth certificate of ${id.sourceId}: the ${device ? 'device' : 'node'} has not been born`,
      );
    const found = birth.metrics.find((m) => m.name === id.name);
    const def = found && { ...found, alias: realAlias(found, birth) };
    if (!def)
      throw new CommandRefused(
        RefusalCode.NotDeliverable,
        `the birth of ${id.sourceId} declares no metric '${id.name}'`,
      );
    if (!isWritableDatatype(def.datatype))
      throw new CommandRefused(
        RefusalCode.NotDeliverable,
        `${id.name} is ${datatypeName(def.datatype)}: no setpoint is written to it`,
      );
    const unit = def.unit || target.unit;
    let sourceValue: CommandValue;
    let deliveredValue: CommandValue;
    if (typeof value === 'boolean') sourceValue = deliveredValue = value;
    else {
      sourceValue = quantizeSparkplug(
        canonicalToSource(value, target.metric, unit, target.scale),
        def.datatype,
      );
      deliveredValue = sourceToCanonical(sourceValue, target.metric, unit, target.scale);
    }
    commandMetric(def, sourceValue, 0); // refuses a value the datatype cannot carry, before anything is sent
    const topic = device ? `spBv1.0/${group}/DCMD/${edge}/${device}` : `spBv1.0/${group}/NCMD/${edge}`;
    return {
      protocol: this.protocol,
      address: topic,
      sourceValue,
      sourceUnit: typeof value === 'boolean' ? '' : unit,
      deliveredValue,
      send: async (deadlineMs) => {
        const now = Date.now();
        const payload = org.eclipse.tahu.protobuf.Payload.encode({
          timestamp: Long.fromNumber(now, true),
          metrics: [commandMetric(def, sourceValue, now)],
        }).finish();
        await this.link.publishCommand(topic, Buffer.from(payload), deadlineMs);
      },
    };
  }

  async stop(): Promise<void> {
    // the MQTT link is shared and stopped by the worker
  }
}

/**
 * The alias the birth really gave a metric, or undefined. ingest-sparkplug stores alias 0 for metrics born
 * without one (the protobuf default of the optional field), so 0, or an alias that several metrics share, is
 * taken as none and the metric is named instead.
 */
export function realAlias(def: BirthMetric, birth: StoredBirth): number | undefined {
  const a = def.alias;
  if (a === undefined || a === 0) return undefined;
  return birth.metrics.filter((m) => m.alias === a).length === 1 ? a : undefined;
}
