import snmp from 'net-snmp';
import { ContractViolation } from '@busway/runtime';
import type { TargetConfig, UserConfig } from './config.js';
import type { RawVarbind } from './varbind.js';

/** The net-snmp form of an authPriv user; its keys never leave this object. */
export function userOf(u: UserConfig): snmp.User {
  return {
    name: u.name,
    level: snmp.SecurityLevel.authPriv,
    authProtocol: snmp.AuthProtocols[u.authProtocol],
    authKey: u.authKey,
    privProtocol: snmp.PrivProtocols[u.privProtocol],
    privKey: u.privKey,
  };
}

/** A UDP session to one target: v2c with its community, v3 with its authPriv user. */
export function openSession(target: TargetConfig, onError: (err: Error) => void): snmp.Session {
  const options = { port: target.port, timeout: target.timeoutMs, retries: target.retries };
  const session =
    target.version === 'v3'
      ? snmp.createV3Session(target.host, userOf(target.user), options)
      : snmp.createSession(target.host, target.community, { ...options, version: snmp.Version2c });
  // a datagram net-snmp cannot parse is emitted here; without a listener it would crash the process
  session.on('error', onError);
  return session;
}

/** GET of some OIDs in one request: the varbinds in the order asked. */
export function getVarbinds(session: snmp.Session, oids: string[]): Promise<RawVarbind[]> {
  return new Promise((resolve, reject) => {
    try {
      session.get(oids, (err, varbinds) => (err ? reject(err) : resolve(varbinds ?? [])));
    } catch (err) {
      reject(err instanceof Error ? err : new Error(String(err)));
    }
  });
}

/**
 * A failed request that reached the agent (it refused, or answered something unreadable) as a ContractViolation
 * with the flag of its points; undefined when it got no answer at all (the target is unreachable).
 */
export function refusalOf(
  err: unknown,
): { error: ContractViolation; flag: 'request-failed' | 'bad-response' } | undefined {
  if (err instanceof snmp.RequestFailedError)
    return {
      error: new ContractViolation(`the agent refused the GET: ${err.message}`),
      flag: 'request-failed',
    };
  if (err instanceof snmp.RequestInvalidError)
    return {
      error: new ContractViolation(`the GET could not be sent: ${err.message}`),
      flag: 'request-failed',
    };
  if (err instanceof snmp.ResponseInvalidError)
    return {
      error: new ContractViolation(`unusable answer to the GET: ${err.message}`),
      flag: 'bad-response',
    };
  return undefined;
}
