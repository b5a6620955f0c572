import type { CommandValue } from '../validate.js';
import type { ResolvedPoint } from '../rules.js';

/** One delivery, worked out and checked before anything is sent. */
export interface DeliveryPlan {
  /** dsx-bms, sparkplug, modbus */
  protocol: string;
  /** Where it goes: the MQTT topic, or <host>:<port>/<unit>/<table>/<address>. */
  address: string;
  /** The value as the source receives it, in its unit (after scale, offset and rounding). */
  sourceValue: CommandValue;
  sourceUnit: string;
  /** The setpoint the source will really hold, back in the canonical unit (rounding may move it). */
  deliveredValue: CommandValue;
  /** Sends it; never after `deadlineMs` (ms since the epoch). Throws DeliveryError when it fails. */
  send(deadlineMs: number): Promise<void>;
}

/** Delivers commands through one protocol, the way the source's own contract expects writes. */
export interface Adapter {
  /** The point-id prefix it serves: `dsx-bms`, `sparkplug`, `modbus`. */
  readonly protocol: string;
  /** Plans a delivery, or throws CommandRefused with why the source cannot take it (nothing is sent). */
  plan(target: ResolvedPoint, value: CommandValue): Promise<DeliveryPlan>;
  stop(): Promise<void>;
}

/** `<protocol>:<source id>:<metric at source>` → its parts; the metric may hold ':' itself. */
export function splitPointId(
  pointId: string,
): { protocol: string; sourceId: string; name: string } | undefined {
  const a = pointId.indexOf(':');
  const b = a < 0 ? -1 : pointId.indexOf(':', a + 1);
  if (a <= 0 || b <= a + 1 || b === pointId.length - 1) return undefined;
  return { protocol: pointId.slice(0, a), sourceId: pointId.slice(a + 1, b), name: pointId.slice(b + 1) };
}
