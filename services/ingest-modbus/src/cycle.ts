import type { busway } from '@busway/proto';
import type { PollFault } from '@busway/runtime';
import type { CycleStamp } from './sample.js';

/** A read that can never succeed as configured: dead-lettered once, until it reads again. */
export type Fault = PollFault;

/** What one poll cycle of one device produced, held until JetStream has it. */
export interface Cycle {
  stamp: CycleStamp;
  samples: busway.v1.ISample[];
  faults: Fault[];
  /** Each block as the device answered it, for the AUDIT stream. */
  original: unknown[];
  /** Set when the device could not be reached: the rest of the cycle is QUALITY_BAD and the loop backs off. */
  unreachable?: string;
}

export const STAGE = 'ingest';
export const WORKER = 'ingest-modbus';
