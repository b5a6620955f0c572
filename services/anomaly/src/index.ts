// Streaming anomaly scoring: online detectors per series with bounded state, alarms with hysteresis.
import { Streams } from '@busway/proto';
import { consumerSpecOf, type WorkerModule } from '@busway/runtime';
import { AnomalyConfigSchema } from './config.js';
import { startAnomaly } from './anomaly.js';

export { AnomalyConfigSchema, DetectorOptionsSchema, EngineOptionsSchema } from './config.js';
export type { AnomalyConfig, DetectorOptions, EngineOptions } from './config.js';
export { Detector, Label, Explains, scoreOf, newScore } from './detector.js';
export type { Score } from './detector.js';
export { STATE_BYTES } from './state-layout.js';
export { AnomalyEngine } from './engine.js';
export type { AlarmTransition, Scored } from './engine.js';
export { alarmEvent, alarmSubject } from './alarm-event.js';
export { startAnomaly } from './anomaly.js';

export const anomalyModule: WorkerModule<typeof AnomalyConfigSchema> = {
  name: 'anomaly',
  stage: 'anomaly',
  description:
    'online anomaly scores per series (robust baseline, spikes, change points, drift, stuck, daily seasonality, coolant heat balance) and alarms with hysteresis',
  configSchema: AnomalyConfigSchema,
  consumers: (c) => [
    consumerSpecOf(Streams.Ordered.name, c.durable, c.filterSubject, c),
    consumerSpecOf(Streams.Ordered.name, c.jobsDurable, 'ordered.v1.events.>', c),
    consumerSpecOf(Streams.Incidents.name, c.incidentsDurable, 'incident.v1.>', c),
  ],
  start: startAnomaly,
};
