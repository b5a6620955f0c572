import type { JetStreamClient } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';

/**
 * A worker's KV bucket, keeping only the latest value per key. A missing bucket is created with the fabric's
 * stream replicas (`streamReplicas`), so it survives the loss of a NATS node like the streams do; an existing
 * one, made by a provisioning job, is used as it is.
 */
export function openKvBucket(
  js: JetStreamClient,
  bucket: string,
  opts: { replicas: number; ttlMs?: number },
): Promise<KV> {
  return new Kvm(js).create(bucket, {
    history: 1,
    replicas: opts.replicas,
    ...(opts.ttlMs !== undefined ? { ttl: opts.ttlMs } : {}),
  });
}
