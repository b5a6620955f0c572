// Sparkplug B host application: the MQTT bridge stores each message on AUDIT (audit.v1.sparkplug.<group>.<edge>);
// the decode stage reads them in order and publishes raw fabric samples on raw.v1.samples.sparkplug.*
import type { WorkerModule } from '@busway/runtime';
import { IngestSparkplugConfigSchema, SparkplugDecodeConfigSchema } from './config.js';
import { startIngestSparkplug } from './bridge.js';
import { decodeConsumer, startSparkplugDecode } from './decode-stage.js';

export { IngestSparkplugConfigSchema, SparkplugDecodeConfigSchema } from './config.js';
export type { IngestSparkplugConfig, SparkplugDecodeConfig } from './config.js';
export { parseTopic, sourceIdOf, MessageTypes } from './topic.js';
export type { SparkplugTopic, MessageType } from './topic.js';
export { decodePayload, metricsToSamples, engUnitOf, setValue, SpType } from './decoder.js';
export type { MetricDef, DecodeContext } from './decoder.js';
export { SparkplugBridge, startIngestSparkplug } from './bridge.js';
export { SparkplugDecodeStage, startSparkplugDecode, decodeConsumer } from './decode-stage.js';
export { SparkplugTranscoder } from './transcoder.js';
export { NodeState } from './node-state.js';

export const ingestSparkplugModule: WorkerModule<typeof IngestSparkplugConfigSchema> = {
  name: 'ingest-sparkplug',
  stage: 'ingest',
  description:
    'Sparkplug B host, MQTT side: births/data/deaths stored on AUDIT as they arrived (PUBACK after the PubAck)',
  configSchema: IngestSparkplugConfigSchema,
  consumers: () => [],
  start: startIngestSparkplug,
};

export const sparkplugDecodeModule: WorkerModule<typeof SparkplugDecodeConfigSchema> = {
  name: 'sparkplug-decode',
  stage: 'ingest',
  description: 'Sparkplug B host, decoding: aliases, seq, rebirths, deaths; AUDIT -> raw samples',
  configSchema: SparkplugDecodeConfigSchema,
  consumers: (c) => [decodeConsumer(c)],
  start: startSparkplugDecode,
};
