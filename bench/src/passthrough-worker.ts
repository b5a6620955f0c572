// One hop of the pipeline benchmark's ceiling, run as its own process: consumes a stream with a stage's
// consumer settings and republishes every message's bytes and headers unread (PubAck before ack), or only
// acknowledges them (a branch reader). `node passthrough-worker.js '<HopOptions JSON>'`, config from env.
import { ConsumerConfigSchema, loadConfig, RuntimeConfigSchema, WorkerRuntime } from '@busway/runtime';
import { startPassHop, type HopOptions } from './passthrough-loop.js';

export type { HopOptions } from './passthrough-loop.js';

const HopConfigSchema = RuntimeConfigSchema.extend(ConsumerConfigSchema.shape);

async function main(opts: HopOptions): Promise<void> {
  const config = loadConfig(HopConfigSchema, { worker: opts.name });
  const rt = await WorkerRuntime.start(opts.name, config);
  const loop = await startPassHop(rt, config, opts);
  rt.onStop(() => loop.stop());
  rt.setReady(true);
  rt.stopOnSignals();
}

await main(JSON.parse(process.argv[2] ?? '{}') as HopOptions);
