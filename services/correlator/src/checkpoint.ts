// Checkpoints in Redis: one key per partition, JSON, written whole (SET is atomic).
import type { Redis } from 'ioredis';
import type { Checkpoint } from './partition-core.js';

export function checkpointKey(prefix: string, durable: string, partition: number): string {
  return `${prefix}:${durable}:p${partition}`;
}

// JSON has no infinities: the watermark starts at -Infinity
const encode = (c: Checkpoint): string =>
  JSON.stringify(c, (_k, v: unknown) => (v === Number.NEGATIVE_INFINITY ? '-Infinity' : v));
const decode = (s: string): Checkpoint =>
  JSON.parse(s, (_k, v: unknown) => (v === '-Infinity' ? Number.NEGATIVE_INFINITY : v)) as Checkpoint;

export async function saveCheckpoint(redis: Redis, key: string, c: Checkpoint): Promise<number> {
  const text = encode(c);
  await redis.set(key, text);
  return text.length;
}

/** The partition's last checkpoint; undefined when there is none or it is not one this version wrote. */
export async function loadCheckpoint(
  redis: Redis,
  key: string,
  partition: number,
): Promise<Checkpoint | undefined> {
  const text = await redis.get(key);
  if (!text) return undefined;
  const c = decode(text);
  return c.version === 1 && c.partition === partition ? c : undefined;
}
