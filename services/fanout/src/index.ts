// Fan-out: ordered samples to UNS subjects (kept in stream UNS) and a Redis last-value cache; incidents, anomaly scores and alarms too.
import { Streams } from '@busway/proto';
import { consumerSpecOf, QosTiers, tierConsumerConfig, type WorkerModule } from '@busway/runtime';
import { FanoutConfigSchema } from './config.js';
import { startFanout } from './fanout.js';

export { FanoutConfigSchema } from './config.js';
export type { FanoutConfig } from './config.js';
export {
  RedisKeys,
  lastValueKey,
  anomalyKey,
  clearedAlarmKey,
  SET_IF_NEWER_LUA,
  APPLY_ALARM_LUA,
} from './redis-keys.js';
export { alarmEventSubject, alarmJson, parseAlarms } from './alarms.js';
export type { AlarmEvent, AlarmJson } from './alarms.js';
export { startFanout } from './fanout.js';

export const fanoutModule: WorkerModule<typeof FanoutConfigSchema> = {
  name: 'fanout',
  stage: 'fanout',
  description:
    'delivery: UNS subjects (stored in stream UNS), Redis last values, incidents, anomaly scores and active alarms',
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
    consumerSpecOf(
      Streams.Alarms.name,
      'fanout-alarms',
      'alarm.v1.>',
      tierConsumerConfig(c, QosTiers.Control),
    ),
  ],
  start: startFanout,
};
