import { context } from '@opentelemetry/api';
import { Redis } from 'ioredis';
import type { MqttClient } from 'mqtt';
import { busway, EventTypes, nowNs, Subjects } from '@busway/proto';
import { mergeSiteModel } from '@busway/registry';
import {
  connectMqttIngest,
  deadLetterMqtt,
  isPoison,
  LogSummary,
  publishFabric,
  type RunningWorker,
  type WorkerRuntime,
} from '@busway/runtime';
import type { IngestDsxConfig } from './config.js';
import { contributionOf } from './contribution.js';
import { parseMetadata, parseValue, type Metadata } from './metadata.js';
import { sampleOf } from './sample.js';
import { parseBmsTopic, pointKeyOf } from './topic.js';

const STAGE = 'ingest';
const WORKER = 'ingest-dsx';

/**
 * DSX Exchange BMS contract → raw fabric samples. Metadata (retained) is cached and applied to values: the unit,
 * the value's type, and the asset; it is also merged into the asset registry (power chain, cooling, racks).
 * Like the Sparkplug bridge, the MQTT PUBACK goes out only after the JetStream PubAck.
 */
export class DsxBridge {
  /** pointKey → the point's metadata. */
  readonly metadata = new Map<string, { pointId: string; tagPath: string; meta: Metadata }>();
  private client?: MqttClient;
  private readonly redis: Redis;
  private mergeTimer?: NodeJS.Timeout;
  private merging: Promise<void> = Promise.resolve();
  private readonly deadLetters: LogSummary;

  constructor(
    private readonly rt: WorkerRuntime,
    private readonly config: IngestDsxConfig,
  ) {
    // its own connection: a merge WATCHes the registry version
    this.redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 2 });
    this.redis.on('error', () => undefined);
    this.deadLetters = new LogSummary(rt.log, 'dead-lettered BMS messages:');
  }

  async start(): Promise<void> {
    this.client = await connectMqttIngest(
      this.config,
      this.rt.log,
      (topic, message) => this.handle(topic, message),
      {
        audit: { js: this.rt.publisher, protocol: 'dsx-bms' },
        metrics: this.rt.metrics,
      },
    );
    const root = this.config.topicRoot;
    // metadata first: it is retained, so the broker replays it on subscribe
    await this.client.subscribeAsync([`${root}/PUB/Metadata/#`, `${root}/+/Value/#`], { qos: 1 });
    this.rt.log.info({ root }, 'subscribed to the DSX Exchange BMS contract');
  }

  async handle(topic: string, payload: Buffer): Promise<void> {
    this.rt.metrics.messages.inc({ stage: STAGE, outcome: 'received' });
    try {
      const t = parseBmsTopic(topic, this.config.topicRoot);
      const key = pointKeyOf(t);
      if (t.kind === 'Metadata') {
        const meta = parseMetadata(payload, topic);
        this.metadata.set(key, { pointId: `dsx-bms:${key}`, tagPath: t.tagPath, meta });
        this.scheduleMerge();
        return;
      }
      const value = parseValue(payload, topic);
      const known = this.metadata.get(key)?.meta;
      const sourceId =
        (known?.objectType === 'Rack' ? known.rackLocationId : known?.objectId) ??
        known?.associateId ??
        t.objectType;
      const sample = sampleOf(`dsx-bms:${key}`, topic, value, known, sourceId, nowNs());
      await publishFabric(
        this.rt.publisher,
        Subjects.rawSamples('dsx-bms', sourceId),
        busway.v1.SampleBatch.encode({ samples: [sample] }).finish(),
        {
          type: EventTypes.SampleBatch,
          source: `/dsx-bms/${t.publisher}`,
          id: `dsx-bms:${key}@${value.timestamp}`,
        },
        context.active(),
      );
      this.rt.metrics.samples.inc({ stage: STAGE, direction: 'out' }, 1);
    } catch (err) {
      if (!isPoison(err)) throw err;
      const reason = await deadLetterMqtt(this.rt, WORKER, STAGE, topic, payload, err);
      this.deadLetters.add(reason.code);
    }
  }

  /** Metadata arrives in bursts (at startup, then every 100 s): merge once the burst is over. */
  private scheduleMerge(): void {
    if (this.mergeTimer) return;
    this.mergeTimer = setTimeout(() => {
      this.mergeTimer = undefined;
      this.merging = this.merging.then(() => this.merge());
    }, this.config.registryDebounceMs);
  }

  private async merge(): Promise<void> {
    try {
      const layout = {
        hallSegment: this.config.hallSegment,
        rowPattern: new RegExp(this.config.rowPattern, 'i'),
      };
      const c = contributionOf(this.metadata, layout);
      const version = await mergeSiteModel(this.redis, this.config.site, c);
      this.rt.log.info(
        { version, assets: c.assets.length, points: c.points.length },
        'BMS topology merged into the registry',
      );
    } catch (err) {
      this.rt.log.warn({ err: (err as Error).message }, 'registry merge failed; retrying');
      this.scheduleMerge();
    }
  }

  async stop(): Promise<void> {
    this.deadLetters.close();
    await this.client?.endAsync();
    if (this.mergeTimer) {
      clearTimeout(this.mergeTimer);
      this.mergeTimer = undefined;
      this.merging = this.merging.then(() => this.merge());
    }
    await this.merging;
    this.redis.disconnect();
  }
}

export async function startIngestDsx(rt: WorkerRuntime, config: IngestDsxConfig): Promise<RunningWorker> {
  const bridge = new DsxBridge(rt, config);
  await bridge.start();
  return { stop: () => bridge.stop() };
}
