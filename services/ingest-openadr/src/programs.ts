import type { EventPayloadDescriptor, ProgramInfo } from './decode.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A program object's id, name and event payload descriptors; undefined when it has no usable id. */
export function programInfoOf(raw: unknown): ProgramInfo | undefined {
  if (!isObj(raw) || typeof raw.id !== 'string' || raw.id === '') return undefined;
  const descriptors = Array.isArray(raw.payloadDescriptors) ? raw.payloadDescriptors : [];
  return {
    id: raw.id,
    name: typeof raw.programName === 'string' && raw.programName !== '' ? raw.programName : raw.id,
    payloadDescriptors: descriptors.filter(
      (d): d is EventPayloadDescriptor =>
        isObj(d) &&
        typeof d.payloadType === 'string' &&
        // a program's list mixes event and report descriptors; only event ones describe event payloads
        (d.objectType === undefined || d.objectType === 'EVENT_PAYLOAD_DESCRIPTOR'),
    ),
  };
}

/** The programs the VEN has read: names and units for the signals of their events. */
export class ProgramCache {
  private readonly programs = new Map<string, ProgramInfo>();

  get(id: string): ProgramInfo | undefined {
    return this.programs.get(id);
  }

  /** Replaces the cache with a full read. */
  replace(raws: unknown[]): void {
    this.programs.clear();
    for (const raw of raws) this.update(raw);
  }

  update(raw: unknown): ProgramInfo | undefined {
    const info = programInfoOf(raw);
    if (info) this.programs.set(info.id, info);
    return info;
  }

  delete(id: string): void {
    this.programs.delete(id);
  }
}
