// Sparkplug B host application: MQTT (Sparkplug 3.0) -> raw fabric samples on raw.v1.samples.sparkplug.*
import type { WorkerModule } from '@busway/runtime';
import { IngestSparkplugConfigSchema } from './config.js';
import { startIngestSparkplug } from './bridge.js';

export { IngestSparkplugConfigSchema } from './config.js';
export type { IngestSparkplugConfig } from './config.js';
export { parseTopic, sourceIdOf, MessageTypes } from './topic.js';
export type { SparkplugTopic, MessageType } from './topic.js';
export { decodePayload, metricsToSamples, engUnitOf, setValue, SpType } from './decoder.js';
export type { MetricDef, DecodeContext } from './decoder.js';
export { SparkplugBridge, startIngestSparkplug } from './bridge.js';
export { SparkplugTranscoder } from './transcoder.js';
export { NodeState } from './node-state.js';

export const ingestSparkplugModule: WorkerModule<typeof IngestSparkplugConfigSchema> = {
  name: 'ingest-sparkplug',
  stage: 'ingest',
  description: 'Sparkplug B host: MQTT births/data/deaths -> raw samples (PUBACK after the JetStream PubAck)',
  configSchema: IngestSparkplugConfigSchema,
  consumers: () => [],
  start: startIngestSparkplug,
};
