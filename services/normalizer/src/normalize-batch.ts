import { busway } from '@busway/proto';
import { DecodeError, type DeadLetterReason } from '@busway/runtime';
import type { DeadbandBatch } from './deadband.js';
import { FastBatchNormalizer } from './fast-batch.js';
import type { SampleNormalizer } from './normalize.js';

export interface NormalizedBatch {
  /** Encoded SampleBatch per NORM subject (one per rack or area). */
  out: { subject: string; data: Uint8Array; count: number }[];
  /** Each rejected sample alone, encoded, with the reason. */
  rejected: { data: Uint8Array; reason: DeadLetterReason }[];
  /** Held back by a deadband. */
  suppressed: number;
}

const fastPaths = new WeakMap<SampleNormalizer, FastBatchNormalizer>();

/**
 * The CPU part of the normalizer for one raw message: decode, normalize every sample, apply deadbands,
 * group by rack and encode. No I/O, so the worker and the benchmark run exactly the same code. The common case
 * goes through `FastBatchNormalizer` (wire to wire); a message it does not take goes through the objects.
 */
export function normalizeBatch(
  data: Uint8Array,
  normalizer: SampleNormalizer,
  reporting: DeadbandBatch,
): NormalizedBatch {
  let fast = fastPaths.get(normalizer);
  if (!fast) fastPaths.set(normalizer, (fast = new FastBatchNormalizer(normalizer)));
  return fast.normalize(data, reporting) ?? normalizeBatchObjects(data, normalizer, reporting);
}

/** The same through the generated decoder and encoder and `SampleNormalizer`: every case, and the reference. */
export function normalizeBatchObjects(
  data: Uint8Array,
  normalizer: SampleNormalizer,
  reporting: DeadbandBatch,
): NormalizedBatch {
  const batch = decodeSampleBatch(data);
  const byRack = new Map<string, busway.v1.ISample[]>();
  const rejected: NormalizedBatch['rejected'] = [];
  let suppressed = 0;
  for (const raw of batch.samples) {
    raw.source ??= batch.source; // a bridge may state the source once per batch
    const r = normalizer.normalize(raw);
    if ('rejected' in r) {
      const one = busway.v1.SampleBatch.encode({ samples: [raw], source: batch.source }).finish();
      rejected.push({ data: one, reason: r.rejected });
      continue;
    }
    if (!reporting.keep(r.ok, r.deadband)) {
      suppressed++;
      continue;
    }
    const list = byRack.get(r.subject);
    if (list) list.push(r.ok);
    else byRack.set(r.subject, [r.ok]);
  }
  const out = [...byRack].map(([subject, samples]) => ({
    subject,
    data: busway.v1.SampleBatch.encode({ samples, source: batch.source }).finish(),
    count: samples.length,
  }));
  return { out, rejected, suppressed };
}

/** The generated decoder's verdict, as a DecodeError whatever it threw (a bad varint, bad UTF-8, a short read). */
function decodeSampleBatch(data: Uint8Array): busway.v1.SampleBatch {
  try {
    return busway.v1.SampleBatch.decode(data);
  } catch (err) {
    throw new DecodeError(`SampleBatch does not decode: ${(err as Error).message}`, { cause: err });
  }
}
