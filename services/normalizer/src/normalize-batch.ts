import { busway } from '@busway/proto';
import type { DeadLetterReason } from '@busway/runtime';
import type { DeadbandBatch } from './deadband.js';
import type { SampleNormalizer } from './normalize.js';

export interface NormalizedBatch {
  /** Encoded SampleBatch per NORM subject (one per rack or area). */
  out: { subject: string; data: Uint8Array; count: number }[];
  /** Each rejected sample alone, encoded, with the reason. */
  rejected: { data: Uint8Array; reason: DeadLetterReason }[];
  /** Held back by a deadband. */
  suppressed: number;
}

/**
 * The CPU part of the normalizer for one raw message: decode, normalize every sample, apply deadbands,
 * group by rack and encode. No I/O, so the worker and the benchmark run exactly the same code.
 */
export function normalizeBatch(
  data: Uint8Array,
  normalizer: SampleNormalizer,
  reporting: DeadbandBatch,
): NormalizedBatch {
  const batch = busway.v1.SampleBatch.decode(data);
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
