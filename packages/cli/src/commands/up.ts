import { join } from 'node:path';
import type { WorkerEntry } from '../workers.js';
import { Supervisor } from '../supervisor.js';

export interface UpOptions {
  workers: readonly Pick<WorkerEntry, 'name'>[];
  env: NodeJS.ProcessEnv;
  logDir: string;
  log: (line: string) => void;
}

/**
 * Runs every pipeline worker as its own process until SIGINT/SIGTERM, then stops them in flow order. A terminal's
 * Ctrl-C also reaches the workers (one process group, so none outlives a killed supervisor): they stop at once.
 */
export async function up(opts: UpOptions): Promise<void> {
  const sup = new Supervisor(opts.env, opts.logDir, opts.log);
  for (const w of opts.workers) await sup.start(w.name);
  await sup.waitReady();
  opts.log(`running ${opts.workers.map((w) => w.name).join(', ')}; logs in ${opts.logDir}; Ctrl-C stops`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  opts.log('stopping workers in flow order');
  await sup.stopAll(opts.workers.map((w) => w.name));
}

export function defaultLogDir(): string {
  return join(process.cwd(), '.busway', 'logs');
}
