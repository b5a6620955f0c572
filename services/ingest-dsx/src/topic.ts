import { ContractViolation } from '@busway/runtime';

/** One DSX Exchange BMS topic: `BMS/v1/{publisher}/{Value|Metadata}/{objectType}/{pointType}/{tagPath…}`. */
export interface BmsTopic {
  /** `PUB` for the BMS itself, else the integration that wrote the value. */
  publisher: string;
  kind: 'Value' | 'Metadata';
  objectType: string;
  pointType: string;
  /** Vendor-defined hierarchical path; may hold several `/` segments. */
  tagPath: string;
}

export function parseBmsTopic(topic: string, root = 'BMS/v1'): BmsTopic {
  const prefix = `${root}/`;
  if (!topic.startsWith(prefix)) throw new ContractViolation(`topic '${topic}' is not under ${root}/`);
  const [publisher, kind, objectType, pointType, ...tag] = topic.slice(prefix.length).split('/');
  if (
    !publisher ||
    (kind !== 'Value' && kind !== 'Metadata') ||
    !objectType ||
    !pointType ||
    tag.length === 0
  )
    throw new ContractViolation(
      `topic '${topic}' is not ${root}/{publisher}/{Value|Metadata}/{objectType}/{pointType}/{tagPath}`,
    );
  return { publisher, kind, objectType, pointType, tagPath: tag.join('/') };
}

/** The identity of a point: the same for its metadata, the BMS's values and an integration's values. */
export function pointKeyOf(t: BmsTopic): string {
  return `${t.objectType}/${t.pointType}/${t.tagPath}`;
}
