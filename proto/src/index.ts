// The fabric's contracts: generated protobuf codecs, subjects, UNS and time helpers.
export { busway } from '../gen/busway.js';
export { org } from '../gen/sparkplug.js';
export { Streams, EventTypes, Subjects, token } from './subjects.js';
export type { StreamKey, EventType } from './subjects.js';
export { UnsTokens, UNREGISTERED_CLASS, unsSubject, metricTokens, unregisteredPath } from './uns.js';
export {
  timeNsFromMs,
  timeNsFromBigInt,
  msFromTimeNs,
  msFromNsBits,
  bigIntFromTimeNs,
  nowNs,
  rfc3339Nano,
  parseRfc3339Ns,
  daysInMonth,
} from './time.js';
export { SampleBatchWriter } from './sample-writer.js';
export { ProtoWriter } from './proto-writer.js';
export { SlabPool } from './slab-pool.js';
export { WireReader, WireType, NotPlain, notPlain } from './wire-reader.js';
export { SAMPLE_WIRE_TYPES, SampleField, SampleWireReader } from './sample-wire.js';
export { QuantityKinds, Metrics, kindOf, canonicalUnitOf } from './taxonomy.js';
export type { QuantityKind } from './taxonomy.js';
export { default as Long } from 'long';
