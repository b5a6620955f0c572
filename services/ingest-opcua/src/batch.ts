import { createHash } from 'node:crypto';
import { busway } from '@busway/proto';
import type { RejectedValue } from './convert.js';

/** What one publish response of one endpoint becomes: a SampleBatch and dead letters, waiting for JetStream. */
export interface PendingBatch {
  /** Nats-Msg-Id of the SampleBatch. */
  id: string;
  /** The encoded SampleBatch; undefined when every value was rejected. */
  data: Uint8Array | undefined;
  samples: number;
  /** Dead letters still to store; each is removed once stored, so a retry never repeats one. */
  rejects: RejectedValue[];
  /** Bytes held in memory: the batch and the dead letters' payloads. */
  bytes: number;
}

function valueKey(s: busway.v1.ISample): string {
  if (s.doubleValue != null) return `d${s.doubleValue}`;
  if (s.intValue != null) return `i${s.intValue.toString()}`;
  if (s.boolValue != null) return `b${s.boolValue}`;
  if (s.stringValue != null) return `s${s.stringValue}`;
  return '-';
}

/**
 * A batch's id from what it holds (point, event time, value, quality), not from the subscription's sequence
 * number: a server restarted from scratch reuses subscription ids and sequence numbers, while a notification the
 * server sends again (Republish, initial values after a transfer) has the same content, so JetStream drops it.
 */
export function batchIdOf(endpointId: string, samples: busway.v1.ISample[]): string {
  const hash = createHash('sha256');
  for (const s of samples)
    hash.update(`${s.pointId}|${s.eventTimeNs?.toString() ?? ''}|${valueKey(s)}|${s.quality ?? 0}\n`);
  return `opcua:${endpointId}:${hash.digest('base64url').slice(0, 22)}`;
}

export function pendingBatchOf(
  endpoint: { id: string; url: string },
  samples: busway.v1.ISample[],
  rejects: RejectedValue[],
): PendingBatch {
  const data =
    samples.length === 0
      ? undefined
      : busway.v1.SampleBatch.encode({
          samples,
          source: { protocol: 'opcua', address: endpoint.url, sourceId: endpoint.id },
        }).finish();
  const rejectBytes = rejects.reduce((n, r) => n + r.payload.length, 0);
  return {
    id: batchIdOf(endpoint.id, samples),
    data,
    samples: samples.length,
    rejects,
    bytes: (data?.length ?? 0) + rejectBytes,
  };
}

/** Keeps a batch far below NATS's default 1 MiB max_payload, which would refuse it on every retry. */
export const MAX_SAMPLES_PER_BATCH = 1000;

/** One publish response's values as batches of at most MAX_SAMPLES_PER_BATCH; dead letters ride with the first. */
export function pendingBatchesOf(
  endpoint: { id: string; url: string },
  samples: busway.v1.ISample[],
  rejects: RejectedValue[],
): PendingBatch[] {
  const out: PendingBatch[] = [];
  for (let i = 0; i === 0 || i < samples.length; i += MAX_SAMPLES_PER_BATCH)
    out.push(pendingBatchOf(endpoint, samples.slice(i, i + MAX_SAMPLES_PER_BATCH), i === 0 ? rejects : []));
  return out;
}
