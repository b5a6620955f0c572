import type { WorkerModule } from '@busway/runtime';
import { anomalyModule } from '@busway/anomaly';
import { correlatorModule } from '@busway/correlator';
import { fanoutModule } from '@busway/fanout';
import { ingestBacnetModule } from '@busway/ingest-bacnet';
import { ingestDsxModule } from '@busway/ingest-dsx';
import { ingestModbusModule } from '@busway/ingest-modbus';
import { ingestMqttJsonModule } from '@busway/ingest-mqtt-json';
import { ingestSnmpModule } from '@busway/ingest-snmp';
import { ingestSparkplugModule } from '@busway/ingest-sparkplug';
import { normalizerModule } from '@busway/normalizer';
import { simulatorModule } from '@busway/simulator';

/** The pipeline's workers in flow order; `busway up` runs these. */
export const PIPELINE: readonly WorkerModule[] = [
  ingestSparkplugModule as unknown as WorkerModule,
  ingestDsxModule as unknown as WorkerModule,
  normalizerModule as unknown as WorkerModule,
  correlatorModule as unknown as WorkerModule,
  anomalyModule as unknown as WorkerModule,
  fanoutModule as unknown as WorkerModule,
];

/** Bridges that need site-specific configuration (rules, devices) before they do anything: run them by name. */
export const CONFIGURED_BRIDGES: readonly WorkerModule[] = [
  ingestMqttJsonModule as unknown as WorkerModule,
  ingestModbusModule as unknown as WorkerModule,
  ingestSnmpModule as unknown as WorkerModule,
  ingestBacnetModule as unknown as WorkerModule,
];

/** Every runnable worker, the simulator included. */
export const WORKERS: readonly WorkerModule[] = [
  ...PIPELINE,
  ...CONFIGURED_BRIDGES,
  simulatorModule as unknown as WorkerModule,
];

export function findWorker(name: string): WorkerModule | undefined {
  return WORKERS.find((w) => w.name === name);
}

/**
 * Workers whose libraries are heavy to load (node-opcua takes over a second and tens of MB): loaded only by the
 * process that runs them, never by every `busway` process. None has consumers to provision.
 */
export const LAZY_WORKERS: readonly {
  name: string;
  stage: string;
  description: string;
  load(): Promise<WorkerModule>;
}[] = [
  {
    name: 'ingest-opcua',
    stage: 'ingest',
    description:
      'OPC UA client: subscriptions with monitored items (deadband, security, reconnect) -> raw samples',
    load: async () => (await import('@busway/ingest-opcua')).ingestOpcuaModule as unknown as WorkerModule,
  },
];

/** Every worker's name, stage and description, without loading the lazy ones. */
export const CATALOG: readonly { name: string; stage: string; description: string }[] = [
  ...WORKERS,
  ...LAZY_WORKERS,
];

/** A worker module by name, loading it if it is a lazy one. */
export async function loadWorker(name: string): Promise<WorkerModule | undefined> {
  return findWorker(name) ?? (await LAZY_WORKERS.find((w) => w.name === name)?.load());
}
