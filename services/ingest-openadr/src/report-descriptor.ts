// reportDescriptor objects of an event: what the VTN asks the VEN to report, with the document's defaults.

export interface ReportDescriptor {
  payloadType: string;
  readingType?: string;
  units?: string;
  /** One value for all resources (true) or one per resource. @default false */
  aggregate: boolean;
  /** The interval to report on; -1: at the end of the last interval. @default -1 */
  startInterval: number;
  /** Intervals in one report; -1: all. @default -1 */
  numIntervals: number;
  /** Report on intervals before startInterval (true) or after (a forecast). @default true */
  historical: boolean;
  /** Intervals between two reports; -1: as many as numIntervals. @default -1 */
  frequency: number;
  /** Reports to send; -1: without end. @default 1 */
  repeat: number;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The event's report descriptors, or why they cannot be read. */
export function readReportDescriptors(v: unknown): ReportDescriptor[] | string {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) return 'reportDescriptors must be an array';
  const out: ReportDescriptor[] = [];
  for (const [i, d] of v.entries()) {
    if (!isObj(d) || typeof d.payloadType !== 'string' || d.payloadType.length === 0)
      return `reportDescriptors ${i}: payloadType must be text`;
    const int = (key: string, fallback: number) => {
      const x = d[key];
      if (x === undefined || x === null) return fallback;
      if (!Number.isInteger(x)) throw new Error(`reportDescriptors ${i}: ${key} must be an integer`);
      return x as number;
    };
    const bool = (key: string, fallback: boolean) => {
      const x = d[key];
      if (x === undefined || x === null) return fallback;
      if (typeof x !== 'boolean') throw new Error(`reportDescriptors ${i}: ${key} must be true or false`);
      return x;
    };
    try {
      out.push({
        payloadType: d.payloadType,
        ...(typeof d.readingType === 'string' ? { readingType: d.readingType } : {}),
        ...(typeof d.units === 'string' ? { units: d.units } : {}),
        aggregate: bool('aggregate', false),
        startInterval: int('startInterval', -1),
        numIntervals: int('numIntervals', -1),
        historical: bool('historical', true),
        frequency: int('frequency', -1),
        repeat: int('repeat', 1),
      });
    } catch (err) {
      return (err as Error).message;
    }
  }
  return out;
}
