import type { Redis } from 'ioredis';
import type { AnomalyEngine } from './engine.js';
import type { Explanation } from './explanations.js';

/** Series written per Redis pipeline. */
const CHUNK = 1000;

/**
 * Detector state in Redis, so a restarted replica resumes without a re-learning gap: one hash per durable,
 * field = series key, value = the series' compact binary record (SeriesStore.encode, fixed size). Only
 * series changed since the last write are written; forgotten (evicted) series are deleted. The open
 * explanation windows are kept beside it as JSON.
 */
export class Checkpointer {
  private readonly explanationsKey: string;

  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    private readonly engine: AnomalyEngine,
  ) {
    this.explanationsKey = `${key}:explanations`;
  }

  /** Loads every checkpointed series (at most maxSeries). Returns how many were restored. */
  async load(): Promise<{ series: number; skipped: number; explanations: number }> {
    const store = this.engine.detector.store;
    let cursor = '0';
    let series = 0;
    let skipped = 0;
    do {
      const [next, items] = await this.redis.hscanBuffer(this.key, cursor, 'COUNT', CHUNK);
      cursor = next.toString();
      for (let i = 0; i + 1 < items.length; i += 2) {
        if (store.size >= store.maxSeries) {
          skipped++;
          continue;
        }
        if (store.restore((items[i] as Buffer).toString(), items[i + 1] as Buffer)) series++;
        else skipped++;
      }
    } while (cursor !== '0');
    const raw = await this.redis.get(this.explanationsKey);
    let windows: Explanation[] = [];
    if (raw) {
      try {
        windows = JSON.parse(raw) as Explanation[];
      } catch {
        windows = []; // unreadable: the next checkpoint overwrites it
      }
    }
    this.engine.explanations.restore(windows);
    return { series, skipped, explanations: windows.length };
  }

  /** Writes what changed since the last save. Returns the number of series written. */
  async save(): Promise<number> {
    const store = this.engine.detector.store;
    const slots = store.takeChanged();
    const evicted = store.takeEvicted();
    try {
      for (let i = 0; i < slots.length; i += CHUNK) {
        const pipe = this.redis.pipeline();
        const args: (string | Buffer)[] = [];
        for (const slot of slots.slice(i, i + CHUNK)) {
          const key = store.keyOf(slot);
          if (key !== undefined) args.push(key, store.encode(slot));
        }
        if (args.length > 0) pipe.hset(this.key, ...args);
        await execAll(pipe);
      }
      if (evicted.length > 0) await this.redis.hdel(this.key, ...evicted);
      await this.redis.set(this.explanationsKey, JSON.stringify(this.engine.explanations.snapshot()));
    } catch (err) {
      store.markChanged(slots); // written next time
      throw err;
    }
    return slots.length;
  }
}

async function execAll(pipe: ReturnType<Redis['pipeline']>): Promise<void> {
  const results = await pipe.exec();
  if (!results) throw new Error('pipeline discarded');
  for (const [err] of results) if (err) throw err;
}
