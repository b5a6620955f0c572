import { DecodeError } from '@busway/runtime';
import { SmiType, typeNameOf, type RawVarbind } from './varbind.js';

/** PDU types of notifications: the v1 Trap (RFC 1157), InformRequest and SNMPv2-Trap (RFC 3416). */
export const NotificationPdu = { Trap: 164, InformRequest: 166, TrapV2: 167 } as const;

export const SYS_UPTIME_OID = '1.3.6.1.2.1.1.3.0';
export const SNMP_TRAP_OID = '1.3.6.1.6.3.1.1.4.1.0';
/** snmpTrapAddress.0 (RFC 3584): the originating agent of a trap that came through a proxy. */
export const SNMP_TRAP_ADDRESS_OID = '1.3.6.1.6.3.18.1.3.0';
const GENERIC_TRAP_PREFIX = '1.3.6.1.6.3.1.1.5';

/** A notification as the receiver hands it over; nothing in it is trusted. */
export interface NotificationLike {
  pdu: {
    type: number;
    varbinds?: unknown;
    enterprise?: unknown;
    agentAddr?: unknown;
    generic?: unknown;
    specific?: unknown;
    upTime?: unknown;
  };
  rinfo: { address: string };
}

/** A notification reduced to what the bridge publishes. */
export interface Trap {
  /** The agent that raised it: the v1 agent-addr or snmpTrapAddress.0 when given, else the sender. */
  agent: string;
  /** sysUpTime of the agent when it raised the trap (hundredths of a second). */
  upTime: number;
  /** snmpTrapOID.0; a v1 trap's is derived as RFC 3584 section 3.1 says. */
  trapOid: string;
  /** The trap's own varbinds (after sysUpTime.0 and snmpTrapOID.0). */
  varbinds: RawVarbind[];
}

function isVarbind(x: unknown): x is RawVarbind {
  const vb = x as Partial<RawVarbind> | null;
  return typeof vb === 'object' && vb !== null && typeof vb.oid === 'string' && typeof vb.type === 'number';
}

function varbindsOf(pdu: NotificationLike['pdu']): RawVarbind[] {
  const vbs = pdu.varbinds;
  if (!Array.isArray(vbs) || !vbs.every(isVarbind))
    throw new DecodeError('the trap has no readable varbind list');
  return vbs;
}

const show = (vb: RawVarbind | undefined) => (vb ? `${vb.oid} (${typeNameOf(vb.type)})` : 'nothing');

function decodeV2(n: NotificationLike): Trap {
  const [upTime, trapOid, ...rest] = varbindsOf(n.pdu);
  if (upTime?.oid !== SYS_UPTIME_OID || upTime.type !== SmiType.TimeTicks || typeof upTime.value !== 'number')
    throw new DecodeError(`a v2 trap starts with sysUpTime.0 (TimeTicks), this one with ${show(upTime)}`);
  if (trapOid?.oid !== SNMP_TRAP_OID || trapOid.type !== SmiType.Oid || typeof trapOid.value !== 'string')
    throw new DecodeError(`the second varbind of a v2 trap is snmpTrapOID.0 (OID), not ${show(trapOid)}`);
  const proxied = rest.find((vb) => vb.oid === SNMP_TRAP_ADDRESS_OID && typeof vb.value === 'string');
  return {
    agent: typeof proxied?.value === 'string' ? proxied.value : n.rinfo.address,
    upTime: upTime.value,
    trapOid: trapOid.value,
    varbinds: rest.filter((vb) => vb !== proxied),
  };
}

function decodeV1(n: NotificationLike): Trap {
  const { enterprise, agentAddr, generic, specific, upTime } = n.pdu;
  const varbinds = varbindsOf(n.pdu);
  if (typeof enterprise !== 'string' || typeof upTime !== 'number')
    throw new DecodeError('a v1 trap without enterprise or time-stamp');
  if (typeof generic !== 'number' || !Number.isInteger(generic) || generic < 0 || generic > 6)
    throw new DecodeError(`a v1 trap with generic-trap ${String(generic)} (0..6)`);
  if (generic === 6 && (typeof specific !== 'number' || !Number.isInteger(specific)))
    throw new DecodeError(`an enterprise-specific v1 trap with specific-trap ${String(specific)}`);
  const agent = typeof agentAddr === 'string' && agentAddr !== '0.0.0.0' ? agentAddr : n.rinfo.address;
  const trapOid =
    generic === 6 ? `${enterprise}.0.${String(specific)}` : `${GENERIC_TRAP_PREFIX}.${generic + 1}`;
  return { agent, upTime, trapOid, varbinds };
}

/** A v1 trap, a v2 trap or an inform as a Trap; DecodeError when it is none of them or breaks its form. */
export function decodeTrap(n: NotificationLike): Trap {
  if (n.pdu.type === NotificationPdu.Trap) return decodeV1(n);
  if (n.pdu.type === NotificationPdu.TrapV2 || n.pdu.type === NotificationPdu.InformRequest)
    return decodeV2(n);
  throw new DecodeError(`PDU type ${n.pdu.type} is not a notification`);
}
