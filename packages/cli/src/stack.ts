import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** URLs of NATS, Redis and MQTT. */
export interface StackUrls {
  natsUrl: string;
  redisUrl: string;
  mqttUrl: string;
}

/** Runs deploy/local/stack.sh (reuse, start or install NATS, Redis, Mosquitto) and returns the URLs. */
export function ensureLocalStack(): StackUrls {
  const script = fileURLToPath(new URL('../../../deploy/local/stack.sh', import.meta.url));
  if (!existsSync(script)) throw new Error(`local stack script not found at ${script}`);
  const out = execFileSync('bash', [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const vars = Object.fromEntries(
    out
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => l.split('=', 2) as [string, string]),
  );
  return {
    natsUrl: vars.NATS_URL ?? 'nats://127.0.0.1:4222',
    redisUrl: vars.REDIS_URL ?? 'redis://127.0.0.1:6379',
    mqttUrl: vars.MQTT_URL ?? 'mqtt://127.0.0.1:1883',
  };
}

/** Where the demo keeps its logs and ground truth. */
export function demoDir(): string {
  return join(process.cwd(), '.busway', 'demo');
}
