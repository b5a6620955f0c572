import { context } from '@opentelemetry/api';
import type { MqttClient } from 'mqtt';
import { busway, EventTypes, nowNs, Subjects } from '@busway/proto';
import {
  connectMqttIngest,
  ContractViolation,
  deadLetterMqtt,
  isPoison,
  LogSummary,
  publishFabric,
  type RunningWorker,
  type WorkerRuntime,
} from '@busway/runtime';
import type { IngestMqttJsonConfig } from './config.js';
import { RuleMapper } from './mapper.js';
import { bleGateway, CHIRPSTACK_V4 } from './presets.js';

const STAGE = 'ingest';
const WORKER = 'ingest-mqtt-json';

/** The configured rules and the enabled presets, compiled. */
export function mappersOf(config: IngestMqttJsonConfig): RuleMapper[] {
  const presets = config.presets.map((p) =>
    p === 'chirpstack-v4' ? CHIRPSTACK_V4 : bleGateway(config.bleZones),
  );
  return [...config.rules, ...presets].map((r) => new RuleMapper(r));
}

/** Generic MQTT JSON → raw samples, by declarative rules; PUBACK after the JetStream PubAck, as every bridge. */
export class MqttJsonBridge {
  private client?: MqttClient;
  private readonly mappers: RuleMapper[];
  private readonly deadLetters: LogSummary;

  constructor(
    private readonly rt: WorkerRuntime,
    private readonly config: IngestMqttJsonConfig,
  ) {
    this.mappers = mappersOf(config);
    this.deadLetters = new LogSummary(rt.log, 'dead-lettered MQTT JSON messages:');
  }

  async start(): Promise<void> {
    this.client = await connectMqttIngest(
      this.config,
      this.rt.log,
      (topic, message) => this.handle(topic, message),
      {
        audit: { js: this.rt.publisher, protocol: 'mqtt' },
        metrics: this.rt.metrics,
      },
    );
    const filters = [...new Set(this.mappers.map((m) => m.filter))];
    if (filters.length > 0) await this.client.subscribeAsync(filters, { qos: 1 });
    this.rt.log.info(
      { filters, rules: this.mappers.map((m) => m.rule.name) },
      'subscribed with mapping rules',
    );
  }

  async handle(topic: string, payload: Buffer): Promise<void> {
    this.rt.metrics.messages.inc({ stage: STAGE, outcome: 'received' });
    try {
      const mapper = this.mappers.find((m) => m.match(topic));
      const captures = mapper?.match(topic);
      if (!mapper || !captures) throw new ContractViolation(`no mapping rule matches topic ${topic}`);
      for (const { source, id, samples } of mapper.map(topic, captures, payload, nowNs())) {
        if (samples.length === 0) continue;
        await publishFabric(
          this.rt.publisher,
          Subjects.rawSamples('mqtt', source),
          busway.v1.SampleBatch.encode({ samples }).finish(),
          { type: EventTypes.SampleBatch, source: `/mqtt/${mapper.rule.name}`, id },
          context.active(),
        );
        this.rt.metrics.samples.inc({ stage: STAGE, direction: 'out' }, samples.length);
      }
    } catch (err) {
      if (!isPoison(err)) throw err;
      const reason = await deadLetterMqtt(this.rt, WORKER, STAGE, topic, payload, err);
      this.deadLetters.add(reason.code);
    }
  }

  async stop(): Promise<void> {
    this.deadLetters.close();
    await this.client?.endAsync();
  }
}

export async function startIngestMqttJson(
  rt: WorkerRuntime,
  config: IngestMqttJsonConfig,
): Promise<RunningWorker> {
  const bridge = new MqttJsonBridge(rt, config);
  await bridge.start();
  return { stop: () => bridge.stop() };
}
