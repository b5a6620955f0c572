// The CLI's catalog entries load their module lazily; tests need the module itself.
import type { WorkerModule } from '@busway/runtime';

/** A catalog entry's module, loaded now; a clear error when it did not load. */
export async function moduleOf(entry: unknown): Promise<WorkerModule> {
  const lazy = entry as { name: string; load?: () => Promise<WorkerModule | undefined> };
  const mod = lazy.load ? await lazy.load() : (entry as WorkerModule);
  if (!mod?.configSchema) throw new Error(`worker ${lazy.name}: its module did not load`);
  return mod;
}
