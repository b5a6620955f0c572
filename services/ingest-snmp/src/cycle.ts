import type { busway } from '@busway/proto';
import type { PollFault } from '@busway/runtime';

/** A read that fails the same way every cycle: dead-lettered once, until it reads again. */
export type Fault = PollFault;

/** What one poll cycle of one target produced, held until JetStream has it. */
export interface Cycle {
  /** When the cycle started (ms since the epoch). */
  pollMs: number;
  samples: busway.v1.ISample[];
  faults: Fault[];
  /** Each GET's varbinds as the agent answered them, for the AUDIT stream. */
  original?: unknown[];
  /** Set when the target did not answer: the rest of the cycle is QUALITY_BAD and the loop backs off. */
  unreachable?: string;
}

export const STAGE = 'ingest';
export const WORKER = 'ingest-snmp';
