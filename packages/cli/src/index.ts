// The busway CLI as a library: used by the end-to-end tests.
export { provision } from './commands/provision.js';
export type { ProvisionOptions } from './commands/provision.js';
export { tail } from './commands/tail.js';
export { demo, summarize, DEMO_STAGES } from './commands/demo.js';
export type { DemoReport, StageCounts } from './commands/demo.js';
export { decodeFabricMessage, sampleToJson, formatLine } from './decode.js';
export { parsePrometheus, sumOf } from './prometheus.js';
export { parseDurationMs } from './duration.js';
export { Supervisor } from './supervisor.js';
export { PIPELINE, WORKERS, CATALOG, findWorker, loadWorker, describeWorkers } from './workers.js';
export type { WorkerEntry } from './workers.js';
