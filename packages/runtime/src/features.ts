import type { NatsConnection } from '@nats-io/transport-node';

/** What the connected nats-server can do; Busway runs on 2.9 and uses newer features when present. */
export interface ServerFeatures {
  version: string;
  /** `+TERM <reason>` (2.10): older servers ignore a term that carries a reason. */
  termWithReason: boolean;
  /** Consumer `filter_subjects` arrays and stream subject transforms (2.10). */
  multiFilter: boolean;
  /** Per-message TTL, consumer pause, priority groups (2.11). */
  messageTtl: boolean;
}

/** Compares dotted versions: atLeast('2.9.10', '2.10.0') is false. */
export function atLeast(version: string, min: string): boolean {
  const a = version.split(/[.-]/).map((n) => Number.parseInt(n, 10) || 0);
  const b = min.split('.').map((n) => Number.parseInt(n, 10) || 0);
  for (let i = 0; i < b.length; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x > y;
  }
  return true;
}

export function serverFeatures(nc: NatsConnection): ServerFeatures {
  const version = nc.info?.version ?? '0.0.0';
  return {
    version,
    termWithReason: atLeast(version, '2.10.0'),
    multiFilter: atLeast(version, '2.10.0'),
    messageTtl: atLeast(version, '2.11.0'),
  };
}
