import type { WorkerModule } from '@busway/runtime';

/**
 * A worker as the CLI lists it: its name, stage, and how to load its module (which has its description). A
 * module is loaded only by the process that needs it (`busway run <worker>` loads one), because each brings its protocol
 * libraries: loading all of them would cost every worker's container tens of MB and seconds of start-up.
 */
export interface WorkerEntry {
  name: string;
  stage: string;
  /** It reads fabric streams through durable consumers, which `busway provision` creates. */
  consumes: boolean;
  load(): Promise<WorkerModule>;
}

const asModule = (m: unknown) => m as WorkerModule;

/** Every runnable worker, in flow order: bridges, then the pipeline stages, then the simulator. */
export const CATALOG: readonly WorkerEntry[] = [
  {
    name: 'ingest-sparkplug',
    stage: 'ingest',
    consumes: false,
    load: async () => asModule((await import('@busway/ingest-sparkplug')).ingestSparkplugModule),
  },
  {
    name: 'sparkplug-decode',
    stage: 'ingest',
    consumes: true,
    load: async () => asModule((await import('@busway/ingest-sparkplug')).sparkplugDecodeModule),
  },
  {
    name: 'ingest-dsx',
    stage: 'ingest',
    consumes: false,
    load: async () => asModule((await import('@busway/ingest-dsx')).ingestDsxModule),
  },
  {
    name: 'normalizer',
    stage: 'normalize',
    consumes: true,
    load: async () => asModule((await import('@busway/normalizer')).normalizerModule),
  },
  {
    name: 'correlator',
    stage: 'correlate',
    consumes: true,
    load: async () => asModule((await import('@busway/correlator')).correlatorModule),
  },
  {
    name: 'anomaly',
    stage: 'anomaly',
    consumes: true,
    load: async () => asModule((await import('@busway/anomaly')).anomalyModule),
  },
  {
    name: 'fanout',
    stage: 'fanout',
    consumes: true,
    load: async () => asModule((await import('@busway/fanout')).fanoutModule),
  },
  {
    name: 'history',
    stage: 'history',
    consumes: false,
    load: async () => asModule((await import('@busway/history')).historyModule),
  },
  {
    name: 'api',
    stage: 'api',
    consumes: false,
    load: async () => asModule((await import('@busway/api')).apiModule),
  },
  {
    name: 'command',
    stage: 'command',
    consumes: true,
    load: async () => asModule((await import('@busway/command')).commandModule),
  },
  {
    name: 'egress-mqtt',
    stage: 'egress',
    consumes: true,
    load: async () => asModule((await import('@busway/egress-mqtt')).egressMqttModule),
  },
  {
    name: 'egress-webhook',
    stage: 'egress',
    consumes: true,
    load: async () => asModule((await import('@busway/egress-webhook')).egressWebhookModule),
  },
  {
    name: 'egress-otlp',
    stage: 'egress',
    consumes: true,
    load: async () => asModule((await import('@busway/egress-otlp')).egressOtlpModule),
  },
  {
    name: 'ingest-mqtt-json',
    stage: 'ingest',
    consumes: false,
    load: async () => asModule((await import('@busway/ingest-mqtt-json')).ingestMqttJsonModule),
  },
  {
    name: 'ingest-modbus',
    stage: 'ingest',
    consumes: false,
    load: async () => asModule((await import('@busway/ingest-modbus')).ingestModbusModule),
  },
  {
    name: 'ingest-snmp',
    stage: 'ingest',
    consumes: false,
    load: async () => asModule((await import('@busway/ingest-snmp')).ingestSnmpModule),
  },
  {
    name: 'ingest-bacnet',
    stage: 'ingest',
    consumes: false,
    load: async () => asModule((await import('@busway/ingest-bacnet')).ingestBacnetModule),
  },
  {
    name: 'ingest-redfish',
    stage: 'ingest',
    consumes: false,
    load: async () => asModule((await import('@busway/ingest-redfish')).ingestRedfishModule),
  },
  {
    name: 'ingest-dcgm',
    stage: 'ingest',
    consumes: false,
    load: async () => asModule((await import('@busway/ingest-dcgm')).ingestDcgmModule),
  },
  {
    name: 'ingest-scheduler',
    stage: 'ingest',
    consumes: false,
    load: async () => asModule((await import('@busway/ingest-scheduler')).ingestSchedulerModule),
  },
  {
    name: 'ingest-openadr',
    stage: 'ingest',
    consumes: false,
    load: async () => asModule((await import('@busway/ingest-openadr')).ingestOpenadrModule),
  },
  {
    name: 'ingest-opcua',
    stage: 'ingest',
    consumes: false,
    load: async () => asModule((await import('@busway/ingest-opcua')).ingestOpcuaModule),
  },
  {
    name: 'simulator',
    stage: 'simulate',
    consumes: false,
    load: async () => asModule((await import('@busway/simulator')).simulatorModule),
  },
];

const pick = (...names: string[]): WorkerEntry[] =>
  names.map((n) => {
    const entry = CATALOG.find((w) => w.name === n);
    if (!entry) throw new Error(`no worker ${n} in the catalog`);
    return entry;
  });

/** The pipeline's workers in flow order; `busway up` and the demo run these. */
export const PIPELINE: readonly WorkerEntry[] = pick(
  'ingest-sparkplug',
  'sparkplug-decode',
  'ingest-dsx',
  'normalizer',
  'correlator',
  'anomaly',
  'fanout',
  'history',
  'api',
);

/** Every worker. */
export const WORKERS: readonly WorkerEntry[] = CATALOG;

export function findWorker(name: string): WorkerEntry | undefined {
  return CATALOG.find((w) => w.name === name);
}

/** A worker's module by name, loaded now; undefined for a name the catalog does not have. */
export async function loadWorker(name: string): Promise<WorkerModule | undefined> {
  return findWorker(name)?.load();
}

/** Every worker's name, stage and description: loads every module (for `busway workers` and the help). */
export async function describeWorkers(): Promise<{ name: string; stage: string; description: string }[]> {
  return Promise.all(
    CATALOG.map(async (w) => ({ name: w.name, stage: w.stage, description: (await w.load()).description })),
  );
}
