import { Long, org } from '@busway/proto';

const u64 = (n: number) => Long.fromNumber(n, true);

/** NDATA payloads of a rack gateway: `metrics` metrics by name, each with its own timestamp, like a busy edge node. */
export function ndataPayloads(count: number, metrics: number, t0 = Date.now()): Buffer[] {
  return Array.from({ length: count }, (_, i) =>
    Buffer.from(
      org.eclipse.tahu.protobuf.Payload.encode({
        timestamp: u64(t0 + i),
        seq: u64(i % 256),
        metrics: Array.from({ length: metrics }, (_, k) => ({
          name: `Rack ${k % 40}/Node ${k}/Power`,
          datatype: 10,
          doubleValue: 1000 + ((i * 7919 + k * 104729) % 5000),
          timestamp: u64(t0 + i),
        })),
      }).finish(),
    ),
  );
}
