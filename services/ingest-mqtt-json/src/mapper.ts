import { busway, Long, timeNsFromBigInt, timeNsFromMs } from '@busway/proto';
import { ContractViolation, DecodeError } from '@busway/runtime';
import { compileTopic, fill, valueAt } from './path.js';
import type { MappingRule } from './rules.js';

/** One message's samples, grouped by source (one raw batch each), with a dedup id per batch. */
export interface Mapped {
  source: string;
  id: string;
  samples: busway.v1.ISample[];
}

/** RFC 3339 to nanoseconds, keeping a fraction finer than milliseconds (`…:05.123456789Z`). */
export function nsFromRfc3339(text: string): bigint | undefined {
  const m = /^(.*T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})$/i.exec(text);
  if (!m) return undefined;
  const seconds = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(seconds)) return undefined;
  return BigInt(seconds) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0').slice(0, 9));
}

/** An event time from a string (RFC 3339) or a number (epoch ms above 1e11, else epoch seconds). */
function timeOf(v: unknown): Long | undefined {
  if (typeof v === 'string') {
    const ns = nsFromRfc3339(v);
    return ns === undefined ? undefined : timeNsFromBigInt(ns);
  }
  if (typeof v === 'number' && Number.isFinite(v) && v > 0) return timeNsFromMs(v > 1e11 ? v : v * 1000);
  return undefined;
}

function setScalar(s: busway.v1.ISample, v: unknown): boolean {
  if (typeof v === 'number' && Number.isFinite(v)) s.doubleValue = v;
  else if (typeof v === 'boolean') s.boolValue = v;
  else if (typeof v === 'string') s.stringValue = v;
  else return false;
  return true;
}

/** A compiled rule: its MQTT filter and the mapping of one message. */
export class RuleMapper {
  private readonly topic: ReturnType<typeof compileTopic>;

  constructor(readonly rule: MappingRule) {
    this.topic = compileTopic(rule.topic);
  }

  get filter(): string {
    return this.topic.filter;
  }

  /** Captures when the topic is this rule's, else undefined. */
  match(topic: string): Record<string, string> | undefined {
    const captures = this.topic.match(topic);
    if (!captures) return undefined;
    for (const [name, d] of Object.entries(this.rule.derive))
      captures[name] = d.map[captures[d.from] ?? ''] ?? captures[d.from] ?? '';
    return captures;
  }

  /** Maps one payload; JSON that does not parse is a DecodeError, a document the rule does not fit a ContractViolation. */
  map(topic: string, captures: Record<string, string>, payload: Uint8Array, ingestTimeNs: Long): Mapped[] {
    let doc: unknown;
    try {
      doc = JSON.parse(Buffer.from(payload).toString('utf8'));
    } catch (err) {
      throw new DecodeError(`payload on ${topic} is not JSON: ${(err as Error).message}`);
    }
    const docs = this.rule.each ? valueAt(doc, this.rule.each) : [doc];
    if (!Array.isArray(docs))
      throw new ContractViolation(`rule ${this.rule.name}: '${this.rule.each}' is not an array on ${topic}`);
    return docs.map((d) => this.mapOne(topic, captures, d, ingestTimeNs));
  }

  private mapOne(topic: string, captures: Record<string, string>, doc: unknown, ingestTimeNs: Long): Mapped {
    const rule = this.rule;
    const source = fill(rule.source, captures, doc);
    if (source === '' || source.endsWith('/'))
      throw new ContractViolation(`rule ${rule.name}: no source id in the message on ${topic}`);
    const rawTime = rule.time === undefined ? undefined : valueAt(doc, rule.time);
    const eventTimeNs = rawTime === undefined ? undefined : timeOf(rawTime);
    if (rawTime !== undefined && eventTimeNs === undefined)
      throw new ContractViolation(
        `rule ${rule.name}: time '${String(rawTime)}' on ${topic} is not RFC 3339 or epoch`,
      );
    const seqRaw = rule.sequence === undefined ? undefined : valueAt(doc, rule.sequence);
    const sequence =
      typeof seqRaw === 'number' ? Long.fromNumber(seqRaw, true) : (eventTimeNs ?? ingestTimeNs).toUnsigned();
    const base = (name: string, unit?: string): busway.v1.ISample => ({
      pointId: `mqtt:${source}:${name}`,
      unit: unit ?? '',
      eventTimeNs,
      clockSource: eventTimeNs
        ? busway.v1.ClockSource.CLOCK_SOURCE_DEVICE
        : busway.v1.ClockSource.CLOCK_SOURCE_INGEST,
      ingestTimeNs,
      quality: busway.v1.Quality.QUALITY_GOOD,
      source: { protocol: 'mqtt', address: topic, sourceId: source },
      sequence,
    });

    const samples: busway.v1.ISample[] = [];
    if (rule.fields !== undefined) {
      const fields = valueAt(doc, rule.fields);
      if (fields !== null && typeof fields === 'object' && !Array.isArray(fields))
        for (const [key, v] of Object.entries(fields)) {
          const s = base(key);
          if (setScalar(s, v)) samples.push(s);
        }
    }
    for (const sr of rule.samples) {
      const name = fill(sr.name, captures, doc);
      const s = base(name, sr.unit);
      const v = sr.text !== undefined ? fill(sr.text, captures, doc) : valueAt(doc, sr.value ?? '');
      if (setScalar(s, v)) samples.push(s);
      else if (!sr.optional)
        throw new ContractViolation(
          `rule ${rule.name}: '${sr.value ?? sr.text}' on ${topic} is not a number, boolean or text`,
        );
    }
    // the topic is in the id: two readers seeing one tag at the same instant are two sightings
    return { source, id: `mqtt:${topic}:${source}:${sequence.toString()}`, samples };
  }
}
