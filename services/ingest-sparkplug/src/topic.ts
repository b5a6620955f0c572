import { ContractViolation } from '@busway/runtime';

export const MessageTypes = [
  'NBIRTH',
  'NDEATH',
  'DBIRTH',
  'DDEATH',
  'NDATA',
  'DDATA',
  'NCMD',
  'DCMD',
  'STATE',
] as const;
export type MessageType = (typeof MessageTypes)[number];

export interface SparkplugTopic {
  group: string;
  type: MessageType;
  edge: string;
  device?: string;
}

/**
 * Parses spBv1.0/<group>/<type>/<edge node>[/<device>], and a host's spBv1.0/STATE/<host id> (Sparkplug 3.0);
 * anything else is a contract violation.
 */
export function parseTopic(topic: string): SparkplugTopic {
  const parts = topic.split('/');
  if (parts.length === 3 && parts[0] === 'spBv1.0' && parts[1] === 'STATE' && parts[2])
    return { group: 'STATE', type: 'STATE', edge: parts[2] };
  const [ns, group, type, edge, device, ...rest] = parts;
  if (ns !== 'spBv1.0' || !group || !type || !edge || rest.length > 0) {
    throw new ContractViolation(
      `not a Sparkplug B topic: '${topic}' (expected spBv1.0/<group>/<type>/<edge>[/<device>])`,
    );
  }
  if (!(MessageTypes as readonly string[]).includes(type))
    throw new ContractViolation(`unknown Sparkplug message type '${type}' in '${topic}'`);
  const t = type as MessageType;
  if ((t === 'DBIRTH' || t === 'DDATA' || t === 'DDEATH' || t === 'DCMD') && !device) {
    throw new ContractViolation(`${t} without a device id: '${topic}'`);
  }
  return { group, type: t, edge, device };
}

/** The source identity of a node or device: <group>/<edge>[/<device>]. */
export function sourceIdOf(t: SparkplugTopic): string {
  return `${t.group}/${t.edge}${t.device ? `/${t.device}` : ''}`;
}
