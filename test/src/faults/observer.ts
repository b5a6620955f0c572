// The ground truth of the ingest: an independent MQTT subscriber that records every DDATA the broker delivers.
import mqtt, { type MqttClient } from 'mqtt';
import { org } from '@busway/proto';

/**
 * Records the identity of every Sparkplug DDATA on the broker, as the bridge names its message
 * (`sparkplug:<group>/<edge>/<device>:DDATA:<timestamp>:<seq>`). Its session is persistent (fixed client id,
 * QoS 1, one hour of session expiry), so a broker restart costs it nothing the bridge would keep.
 */
export class SparkplugObserver {
  readonly ddata = new Map<string, number>();
  /** DDATA payloads that were not Sparkplug protobuf (the poison a scenario sends on purpose). */
  malformed = 0;

  private constructor(private readonly client: MqttClient) {}

  static async connect(url: string): Promise<SparkplugObserver> {
    const client = await mqtt.connectAsync(url, {
      clientId: 'busway-faults-observer',
      clean: false,
      protocolVersion: 5,
      properties: { sessionExpiryInterval: 3600 },
      reconnectPeriod: 500,
    });
    const observer = new SparkplugObserver(client);
    client.on('message', (topic, payload) => observer.record(topic, payload));
    await client.subscribeAsync('spBv1.0/+/DDATA/#', { qos: 1 });
    return observer;
  }

  private record(topic: string, payload: Buffer): void {
    const [, group, , edge, device] = topic.split('/');
    let p: org.eclipse.tahu.protobuf.Payload;
    try {
      p = org.eclipse.tahu.protobuf.Payload.decode(payload);
    } catch {
      this.malformed++;
      return;
    }
    const id = `sparkplug:${group}/${edge}/${device}:DDATA:${p.timestamp?.toString()}:${p.seq?.toString()}`;
    this.ddata.set(id, (this.ddata.get(id) ?? 0) + 1);
  }

  async close(): Promise<void> {
    await this.client.endAsync();
  }
}
