// The shared worker runtime: config, NATS, provisioning, consume loop, dead letters, health, metrics, tracing.
export {
  RuntimeConfigSchema,
  ConsumerConfigSchema,
  loadConfig,
  envNameOf,
  unknownWorkerKeys,
} from './config.js';
export { fromJson } from './config-json.js';
export type { RuntimeConfig, ConsumerConfig, LoadConfigOptions } from './config.js';
export {
  ErrorCode,
  BuswayError,
  ConfigError,
  DecodeError,
  ContractViolation,
  UnitMismatch,
  TransientError,
  isPoison,
  isTransient,
  reasonOf,
} from './errors.js';
export { createLogger, LogSummary } from './logger.js';
export type { Logger } from './logger.js';
export { StageMetrics } from './metrics.js';
export { startHealthServer } from './health.js';
export type { HealthServer, HealthOptions } from './health.js';
export { connectNats, NATS_CLIENT_TUNING, natsOptionsOf, natsSecurityOptions } from './nats.js';
export type { NatsOptions, NatsTlsFiles } from './nats.js';
export {
  WORKER_ACCESS,
  Zones,
  PROVISIONER,
  OBSERVER,
  OPERATOR,
  natsPermissionsOf,
  provisionerPermissions,
  observerPermissions,
  operatorPermissions,
  natsUserOf,
  inboxPrefixOf,
  accessOf,
} from './nats-access.js';
export type { WorkerAccess, NatsPermissions, Zone, Scaling, FieldPort } from './nats-access.js';
export {
  GENERATED_HEADER,
  passwordEnvOf,
  renderNatsUser,
  renderNatsUsers,
  renderNscScript,
  renderChartAccess,
  usersOf,
  nonWorkerUsers,
} from './nats-access-render.js';
export {
  ensureStream,
  ensureConsumer,
  consumerSpecOf,
  rewindConsumer,
  resumeFromAckFloor,
} from './provision.js';
export type { StreamSpec, ConsumerSpec } from './provision.js';
export { Hdr, PROTOBUF_CONTENT_TYPE, fabricHeaders, readEnvelope } from './headers.js';
export { cloudEventOf } from './cloudevent-json.js';
export type { CloudEventJson, FabricMessage } from './cloudevent-json.js';
export type { FabricEnvelope } from './headers.js';
export {
  initTracing,
  injectTrace,
  extractTrace,
  startBatchSpan,
  startSendSpan,
  failSpan,
  sendTraced,
  startSourceSpan,
  withLinks,
} from './tracing.js';
export type { Tracing, BatchSpanOptions } from './tracing.js';
export { withSourceTime, sourceTimeOf, oldestTime, provenanceOf, mergeProvenance } from './provenance.js';
export type { Provenance } from './provenance.js';
export { inSourceSpan, traceMqttMessage, tracePollCycle } from './source-trace.js';
export { startConsumerLag } from './consumer-lag.js';
export type { ConsumerLagOptions, ConsumerLagSampler } from './consumer-lag.js';
export { otlpMetricReader, PromMetricProducer } from './otel-metrics.js';
export {
  deadLetterHeaders,
  publishDeadLetter,
  deadLetterJsMsg,
  readDeadLetters,
  deadLetters,
  listDeadLetters,
  originalHeadersOf,
} from './dead-letter.js';
export type { DeadLetterReason, DeadLetterEntry, DeadLetterFilter } from './dead-letter.js';
export { redriveDeadLetters } from './redrive.js';
export type { RedriveOptions, RedriveResult } from './redrive.js';
export { publishFabric } from './publish.js';
export { isUnavailable, PubAckPublisher, PublishError } from './pub-acks.js';
export type { JetStreamPublisher } from './pub-acks.js';
export { startConsumeLoop, ACK, HOLD } from './consume-loop.js';
export { Refused, decodeOrRefuse } from './decode.js';
export type { Outcome, BatchHandler, ConsumeLoop, ConsumeLoopOptions } from './consume-loop.js';
export { WorkerRuntime, announcedPort } from './worker.js';
export { serverFeatures, atLeast } from './features.js';
export type { ServerFeatures } from './features.js';
export { fabricStreams, DEFAULT_RETENTION_MS, StreamLimitsSchema, StreamLimitSchema } from './streams.js';
export type { StreamLimits } from './streams.js';
export { runWorker, provisionModule } from './worker-module.js';
export type { WorkerModule, RunningWorker } from './worker-module.js';
export { Prng } from './prng.js';
export { connectMqttIngest, deadLetterMqtt, auditMqtt, mqttMessageId } from './mqtt-ingest.js';
export type { MqttIngestConfig } from './mqtt-ingest.js';
export { backoffMs, nextPollAt, sleep, withTimeout, messageOf, PollScheduler, runPollLoop } from './poll.js';
export type { PollLoopOptions, PollOutcome } from './poll.js';
export { PollDelivery } from './poll-delivery.js';
export {
  QosTiers,
  CONTROL_STREAMS,
  tierOfStream,
  streamOfSubject,
  ControlTierConfigSchema,
  tierConsumerConfig,
  PriorityGate,
  connectControlTier,
} from './qos.js';
export type { QosTier, ControlTierConfig, TierConnection } from './qos.js';
export { subjectCovers } from './subject-match.js';
export type { PollFault, PollCycle, PollSource } from './poll-delivery.js';
export { ownValue } from './own-value.js';
export { openKvBucket } from './kv-bucket.js';
export { settleMessage } from './settle.js';
export type { SettleOptions } from './settle.js';
