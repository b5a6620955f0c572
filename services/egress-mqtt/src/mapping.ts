import { busway, EventTypes, msFromTimeNs } from '@busway/proto';
import { ContractViolation, DecodeError, ownValue, readEnvelope } from '@busway/runtime';
import type { MsgHdrs } from '@nats-io/transport-node';
import type { MappingConfig } from './config.js';
import {
  DEFAULT_OBJECT_TYPES,
  DEFAULT_POINT_TYPES,
  DSX_POINT_TYPES,
  dsxValueOf,
  pointTypeOf,
} from './dsx.js';
import { cloudEventOf, unsValueOf } from './payloads.js';
import { dsxTopic, fillTemplate, subjectTopic, unsTopic } from './topics.js';

/** One MQTT message to publish. */
export interface Publication {
  topic: string;
  payload: string;
}

/** What one fabric message becomes: its publications, and how many of its samples this mapping cannot express. */
export interface Mapped {
  publications: Publication[];
  notMapped: number;
}

/** A mapping compiled once: its tables merged over the defaults. */
export class TopicMapper {
  private readonly objectTypes: Record<string, string>;
  private readonly pointTypes: Record<string, string>;

  constructor(readonly mapping: MappingConfig) {
    this.objectTypes = { ...DEFAULT_OBJECT_TYPES, ...mapping.objectTypes };
    this.pointTypes = { ...DEFAULT_POINT_TYPES, ...mapping.pointTypes };
  }

  /** Throws DecodeError or ContractViolation (poison) for a message this mapping can never publish. */
  map(subject: string, data: Uint8Array, headers: MsgHdrs | undefined, seq: number): Mapped {
    const m = this.mapping;
    const isSamples = readEnvelope(headers).type === EventTypes.SampleBatch;
    if (m.style === 'subject')
      return {
        publications: [
          { topic: subjectTopic(m.prefix, subject), payload: cloudEventOf(subject, data, headers, seq) },
        ],
        notMapped: 0,
      };
    if (m.style === 'template' && m.payload === 'cloudevent') {
      // one message, one publication; a one-sample batch (a UNS message) lends its path to the template
      const samples = isSamples ? decodeSamples(subject, data) : [];
      return this.templated(
        subject,
        samples.length === 1 ? samples[0] : undefined,
        cloudEventOf(subject, data, headers, seq),
      );
    }
    if (!isSamples)
      throw new ContractViolation(
        `mapping '${m.name}' (${m.style}) publishes samples; got '${readEnvelope(headers).type}' on ${subject}`,
      );
    const out: Mapped = { publications: [], notMapped: 0 };
    for (const s of decodeSamples(subject, data)) {
      const p = this.sample(subject, s);
      if (p) out.publications.push(p);
      else out.notMapped++;
    }
    return out;
  }

  private templated(subject: string, s: busway.v1.ISample | undefined, payload: string): Mapped {
    const topic = fillTemplate(this.mapping.topic as string, { subject, path: s?.path, metric: s?.metric });
    return topic ? { publications: [{ topic, payload }], notMapped: 0 } : { publications: [], notMapped: 1 };
  }

  private sample(subject: string, s: busway.v1.ISample): Publication | undefined {
    const m = this.mapping;
    if (!s.path || !s.metric) return undefined;
    switch (m.style) {
      case 'uns':
        return { topic: unsTopic(m.prefix, s.path, s.metric), payload: JSON.stringify(unsValueOf(s)) };
      case 'template':
        return this.templated(subject, s, JSON.stringify(unsValueOf(s))).publications[0];
      case 'dsx':
        return this.dsx(subject, s);
      default:
        return undefined;
    }
  }

  private dsx(subject: string, s: busway.v1.ISample): Publication | undefined {
    const m = this.mapping;
    const objectType = ownValue(this.objectTypes, s.path?.assetClass ?? '');
    if (!objectType) return undefined;
    const pointType = pointTypeOf(objectType, s.metric ?? '', this.pointTypes, DSX_POINT_TYPES[objectType]);
    const tagPath = fillTemplate(m.tagPath, { subject, path: s.path, metric: s.metric });
    const value = dsxValueOf(s, Math.floor(msFromTimeNs(s.eventTimeNs)));
    if (!pointType || !tagPath || !value) return undefined;
    return { topic: dsxTopic(m.integration, objectType, pointType, tagPath), payload: JSON.stringify(value) };
  }
}

function decodeSamples(subject: string, data: Uint8Array): busway.v1.ISample[] {
  try {
    return busway.v1.SampleBatch.decode(data).samples;
  } catch (err) {
    throw new DecodeError(`SampleBatch on ${subject} does not decode: ${(err as Error).message}`, {
      cause: err,
    });
  }
}
