import { createHash } from 'node:crypto';
import { type busway, type Long, Subjects } from '@busway/proto';
import { DecodeError, reasonOf, type DeadLetterReason } from '@busway/runtime';
import type { PointConfig, TargetConfig } from './config.js';
import { badSample, goodSample, trapSample, type SampleStamp } from './sample.js';
import { decodeTrap, type NotificationLike, type Trap } from './trap-decode.js';
import { describeVarbind, readVarbind, type RawVarbind } from './varbind.js';

/** What one received packet becomes: a SampleBatch, or a dead letter. */
export type TrapOutgoing =
  | {
      kind: 'samples';
      subject: string;
      batch: busway.v1.ISampleBatch;
      envelope: { source: string; id: string };
    }
  | {
      kind: 'dead-letter';
      letter: { origin: string; msgId: string; payload: Uint8Array; reason: DeadLetterReason };
    };

/** When and in which order the receiver got a packet. */
export interface Arrival {
  atMs: number;
  /** Strictly increasing over the receiver: two traps in one millisecond still have their own sequence. */
  sequence: number;
  ingestTimeNs: Long;
}

const digestOf = (x: unknown) => createHash('sha1').update(JSON.stringify(x)).digest('hex').slice(0, 12);

/** The target a trap belongs to: the one configured with the agent's address as host, when exactly one is. */
export function targetOfAgent(agent: string, targets: readonly TargetConfig[]): TargetConfig | undefined {
  const matches = targets.filter((t) => t.host === agent);
  return matches.length === 1 ? matches[0] : undefined;
}

function varbindSample(stamp: SampleStamp, vb: RawVarbind, target: TargetConfig | undefined) {
  const point: Pick<PointConfig, 'name' | 'oid' | 'unit' | 'scale' | 'type'> = target?.points.find(
    (p) => p.oid === vb.oid,
  ) ?? { name: vb.oid, oid: vb.oid, unit: '', scale: 1 };
  try {
    const reading = readVarbind(vb, point);
    return reading.ok ? goodSample(stamp, point, reading.value) : badSample(stamp, point, reading.flag);
  } catch (err) {
    if (!(err instanceof DecodeError)) throw err;
    return badSample(stamp, point, 'decode-error');
  }
}

/** A decoded trap as one SampleBatch: the trap itself, then a sample per varbind (named as the target's points). */
export function trapBatch(trap: Trap, targets: readonly TargetConfig[], arrival: Arrival): TrapOutgoing {
  const target = targetOfAgent(trap.agent, targets);
  const sourceId = target?.id ?? trap.agent;
  const stamp: SampleStamp = { sourceId, addressBase: trap.agent, ...arrival };
  const samples = [
    trapSample(stamp, trap.trapOid),
    ...trap.varbinds.map((vb) => varbindSample(stamp, vb, target)),
  ];
  // an inform that is sent again has the same identity: JetStream stores it once
  const id = `snmp-trap:${trap.agent}:${trap.upTime}:${trap.trapOid}:${digestOf(trap.varbinds.map(describeVarbind))}`;
  return {
    kind: 'samples',
    subject: Subjects.rawSamples('snmp', sourceId),
    batch: { samples, source: { protocol: 'snmp', address: trap.agent, sourceId } },
    envelope: { source: `/snmp/${sourceId}`, id },
  };
}

/** A received notification as what to publish; one that breaks the trap form becomes a dead letter. */
export function trapOutgoing(
  n: NotificationLike,
  targets: readonly TargetConfig[],
  arrival: Arrival,
): TrapOutgoing {
  let trap: Trap;
  try {
    trap = decodeTrap(n);
  } catch (err) {
    if (!(err instanceof DecodeError)) throw err;
    const varbinds = Array.isArray(n.pdu.varbinds)
      ? (n.pdu.varbinds as RawVarbind[]).map(describeVarbind)
      : [];
    const pdu = { ...n.pdu, varbinds };
    const payload = new TextEncoder().encode(
      JSON.stringify({ from: n.rinfo.address, pdu, error: err.message }),
    );
    const msgId = `snmp-trap:${n.rinfo.address}:${arrival.atMs}:${digestOf(pdu)}`;
    return {
      kind: 'dead-letter',
      letter: { origin: `snmp-trap:${n.rinfo.address}`, msgId, payload, reason: reasonOf(err) },
    };
  }
  return trapBatch(trap, targets, arrival);
}

/** A datagram the receiver could not decode at all: its bytes as they came, as a dead letter. */
export function undecodableOutgoing(
  from: string,
  bytes: Uint8Array,
  why: string,
  arrival: Arrival,
): TrapOutgoing {
  const msgId = `snmp-trap:${from}:${arrival.atMs}:${createHash('sha1').update(bytes).digest('hex').slice(0, 12)}`;
  return {
    kind: 'dead-letter',
    letter: {
      origin: `snmp-trap:${from}`,
      msgId,
      payload: bytes,
      reason: reasonOf(new DecodeError(`undecodable SNMP datagram from ${from}: ${why}`)),
    },
  };
}
