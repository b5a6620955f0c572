import mqtt, { type MqttClient } from 'mqtt';
import { Long, org } from '@busway/proto';
import { DataType, type DeviceDef } from './plant.js';

const Payload = org.eclipse.tahu.protobuf.Payload;
type IMetric = org.eclipse.tahu.protobuf.Payload.IMetric;

const ulong = (n: number) => Long.fromNumber(n, true);

/**
 * One Sparkplug B edge node (a row gateway) and its devices: NBIRTH/DBIRTH with names, aliases, datatypes
 * and `engUnit`, then NDATA/DDATA by alias, `seq` 0..255 across the node's messages, NDEATH as the MQTT will
 * (with the matching bdSeq), and rebirth on NCMD `Node Control/Rebirth`.
 */
export class SparkplugEdgeNode {
  private client?: MqttClient;
  private seq = 0;
  private readonly aliases = new Map<string, number>();
  private readonly lastValues = new Map<string, number>();

  constructor(
    private readonly url: string,
    private readonly group: string,
    readonly edge: string,
    private readonly devices: DeviceDef[],
    private readonly bdSeq: number,
  ) {
    let alias = 1;
    for (const d of devices) for (const p of d.points) this.aliases.set(`${d.id}\u0000${p.name}`, alias++);
  }

  private topic(type: string, device?: string): string {
    return `spBv1.0/${this.group}/${type}/${this.edge}${device ? `/${device}` : ''}`;
  }

  async connect(): Promise<void> {
    const will = Payload.encode({
      timestamp: ulong(Date.now()),
      metrics: [{ name: 'bdSeq', datatype: 8, longValue: ulong(this.bdSeq) }],
    }).finish();
    this.client = await mqtt.connectAsync(this.url, {
      clientId: `busway-sim-${this.group}-${this.edge}`,
      clean: true,
      reconnectPeriod: 1000,
      will: { topic: this.topic('NDEATH'), payload: Buffer.from(will), qos: 1, retain: false },
    });
    this.client.on('message', (topic, message) => this.onCommand(topic, message));
    this.client.on('connect', () => void this.birth()); // a reconnect is a new session: births again
    await this.client.subscribeAsync(this.topic('NCMD'), { qos: 1 });
    await this.birth();
  }

  private onCommand(topic: string, message: Buffer): void {
    if (topic !== this.topic('NCMD')) return;
    try {
      const cmd = Payload.decode(message);
      if (cmd.metrics.some((m) => m.name === 'Node Control/Rebirth' && m.booleanValue)) void this.birth();
    } catch {
      // not ours to judge: a malformed command is ignored by an edge node
    }
  }

  private nextSeq(): Long {
    const s = this.seq;
    this.seq = (this.seq + 1) % 256;
    return ulong(s);
  }

  /** NBIRTH then every DBIRTH with the full metric definitions; seq restarts at 0. */
  async birth(): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.seq = 0;
    const now = ulong(Date.now());
    const nbirth = Payload.encode({
      timestamp: now,
      seq: this.nextSeq(),
      metrics: [
        { name: 'bdSeq', datatype: 8, longValue: ulong(this.bdSeq), timestamp: now },
        { name: 'Node Control/Rebirth', datatype: DataType.Boolean, booleanValue: false, timestamp: now },
      ],
    }).finish();
    await client.publishAsync(this.topic('NBIRTH'), Buffer.from(nbirth), { qos: 1 });
    for (const d of this.devices) {
      const metrics: IMetric[] = d.points.map((p) => ({
        name: p.name,
        alias: ulong(this.aliases.get(`${d.id}\u0000${p.name}`) ?? 0),
        datatype: DataType.Double,
        timestamp: now,
        doubleValue: this.lastValues.get(`${d.id}\u0000${p.name}`) ?? 0,
        isNull: !this.lastValues.has(`${d.id}\u0000${p.name}`),
        properties: { keys: ['engUnit'], values: [{ type: DataType.String, stringValue: p.unit }] },
      }));
      const payload = Payload.encode({ timestamp: now, seq: this.nextSeq(), metrics }).finish();
      await client.publishAsync(this.topic('DBIRTH', d.id), Buffer.from(payload), { qos: 1 });
    }
  }

  /** One DDATA per device with its due readings, by alias, each with its own timestamp. */
  async publish(
    device: DeviceDef,
    readings: { name: string; value: number; timeMs: number }[],
  ): Promise<number> {
    const client = this.client;
    if (!client || readings.length === 0) return 0;
    const metrics: IMetric[] = readings.map((r) => {
      this.lastValues.set(`${device.id}\u0000${r.name}`, r.value);
      return {
        alias: ulong(this.aliases.get(`${device.id}\u0000${r.name}`) ?? 0),
        timestamp: ulong(r.timeMs),
        datatype: DataType.Double,
        doubleValue: r.value,
      };
    });
    const timestamp = ulong(Math.max(...readings.map((r) => r.timeMs)));
    const payload = Payload.encode({ timestamp, seq: this.nextSeq(), metrics }).finish();
    await client.publishAsync(this.topic('DDATA', device.id), Buffer.from(payload), { qos: 1 });
    return metrics.length;
  }

  /** Clean shutdown: publish the death certificate ourselves (a clean disconnect suppresses the will). */
  async close(): Promise<void> {
    const client = this.client;
    if (!client) return;
    const death = Payload.encode({
      timestamp: ulong(Date.now()),
      metrics: [{ name: 'bdSeq', datatype: 8, longValue: ulong(this.bdSeq) }],
    }).finish();
    await client.publishAsync(this.topic('NDEATH'), Buffer.from(death), { qos: 1 }).catch(() => undefined);
    await client.endAsync();
  }
}
