// Fan-out: ordered samples to UNS subjects (kept in stream UNS) and a Redis last-value cache; incidents and anomaly scores too.
import { Streams } from '@busway/proto';
import { consumerSpecOf, QosTiers, tierConsumerConfig, type WorkerModule } from '@busway/runtime';
import { FanoutConfigSchema } from './config.js';
import { startFanout } from './fanout.js';

export { FanoutConfigSchema } from './config.js';
export type { FanoutConfig } from './config.js';
export { RedisKeys, lastValueKey, anomalyKey, SET_IF_NEWER_LUA } from './redis-keys.js';
export { startFanout } from './fanout.js';

export const fanoutModule: WorkerModule<typeof FanoutConfigSchema> = {
  name: 'fanout',
  stage: 'fanout',
  description:
    'delivery: UNS subjects (stored in stream UNS), Redis last values, incidents and anomaly alarms',
  configSchema: FanoutConfigSchema,
  consumers: (c) => [
    consumerSpecOf(Streams.Ordered.name, 'fanout-samples', 'ordered.v1.samples.>', c),
    consumerSpecOf(
      Streams.Incidents.name,
      'fanout-incidents',
      'incident.v1.>',
      tierConsumerConfig(c, QosTiers.Control),
    ),
    consumerSpecOf(Streams.Anomalies.name, 'fanout-anomalies', 'anomaly.v1.>', c),
  ],
  start: startFanout,
};
