import { Redis } from 'ioredis';
import { mergeSiteModel, RegistryClient } from '@busway/registry';
import { ConfigError, type Logger, withTimeout } from '@busway/runtime';
import { gpuContribution } from './gpu-registry.js';
import type { GpuSeen } from './samples.js';

/**
 * Keeps the registry's GPUs and their points in step with what the exporters show: after each scrape, what
 * the registry lacks is merged into it (optimistically, beside other bridges' merges). A model published
 * afresh (the demo's provisioning) loses them, and the next scrape merges them again.
 */
export class GpuRegistrar {
  private chain: Promise<void> = Promise.resolve();
  private readonly warnedHosts = new Set<string>();

  private constructor(
    private readonly client: RegistryClient,
    private readonly redis: Redis,
    private readonly site: string,
    private readonly timeoutMs: number,
    private readonly log: Logger,
  ) {}

  static async connect(
    redisUrl: string,
    site: string,
    timeoutMs: number,
    log: Logger,
  ): Promise<GpuRegistrar> {
    let client: RegistryClient;
    try {
      client = await withTimeout(RegistryClient.connect(redisUrl, site), 10_000, 'registry');
    } catch (err) {
      throw new ConfigError(
        `cannot reach the asset registry in Redis at ${redisUrl} (REDIS_URL): ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    // its own connection: a merge WATCHes the registry version
    const redis = new Redis(redisUrl, { maxRetriesPerRequest: 2 });
    redis.on('error', () => undefined);
    return new GpuRegistrar(client, redis, site, timeoutMs, log);
  }

  /** Merges what the registry lacks for these GPUs; resolves when merged, or after the timeout (retried next scrape). */
  register(gpus: readonly GpuSeen[]): Promise<void> {
    const run = this.chain.then(() => this.merge(gpus));
    this.chain = run.catch(() => undefined);
    return withTimeout(run, this.timeoutMs, 'registry merge').catch((err: unknown) => {
      this.log.warn({ err: (err as Error).message }, 'GPU registry merge failed; retried on the next scrape');
    });
  }

  private async merge(gpus: readonly GpuSeen[]): Promise<void> {
    const { contribution, unknownHosts } = gpuContribution(this.client.registry, gpus);
    for (const host of unknownHosts) {
      if (this.warnedHosts.has(host)) continue;
      this.warnedHosts.add(host);
      this.log.warn(
        { host },
        'the registry has no node for this host: its GPUs stay unregistered until it does',
      );
    }
    if (contribution.assets.length === 0 && contribution.points.length === 0) return;
    const version = await mergeSiteModel(this.redis, this.site, contribution);
    await this.client.refresh();
    this.log.info(
      { version, gpus: contribution.assets.length, points: contribution.points.length },
      'GPUs merged into the registry',
    );
  }

  async close(): Promise<void> {
    await this.chain;
    await this.client.close();
    await this.redis.quit().catch(() => undefined);
  }
}
