import { z } from 'zod';

/** One sample a rule takes from a message. */
export const SampleRuleSchema = z
  .object({
    /** Metric name at the source (a template): the last part of the point id. */
    name: z.string().min(1),
    /** Path of a numeric, boolean or string value in the document (`object.temperature`, `rxInfo[0].rssi`). */
    value: z.string().optional(),
    /** Or a text built from a template (`{zone}`): a string sample, e.g. where a tag was seen. */
    text: z.string().optional(),
    /** Source unit (UCUM or a known spelling); the registry's unit applies when absent. */
    unit: z.string().optional(),
    /** A missing value skips this sample instead of rejecting the message. @default false */
    optional: z.boolean().default(false),
  })
  .refine((s) => (s.value === undefined) !== (s.text === undefined), 'a sample has either `value` or `text`');
export type SampleRule = z.infer<typeof SampleRuleSchema>;

/** How the messages of one topic pattern become samples. */
export const MappingRuleSchema = z.object({
  name: z.string().regex(/^[\w-]+$/),
  /** MQTT topic with named one-level captures: `application/{app}/device/{devEui}/event/up`. */
  topic: z.string().min(1),
  /** Path of an array in the payload: each element is then mapped as its own document. */
  each: z.string().optional(),
  /** Source id (a template over captures and `{$.paths}`): the middle of the point id and the raw subject. */
  source: z.string().min(1),
  /** Path of the event time (RFC 3339 string, or epoch seconds / milliseconds); none: ingest time. */
  time: z.string().optional(),
  /** Path of a per-source counter (LoRaWAN fCnt) for dedup; default: the event time. */
  sequence: z.string().optional(),
  /** Every number, boolean or string directly under this path becomes a sample named by its key. */
  fields: z.string().optional(),
  samples: z.array(SampleRuleSchema).default([]),
  /** Captures derived from others through a table, e.g. a BLE reader's zone from its gateway id. */
  derive: z
    .record(z.string(), z.object({ from: z.string(), map: z.record(z.string(), z.string()) }))
    .default({}),
});
export type MappingRule = z.infer<typeof MappingRuleSchema>;
