import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { kindOf, QuantityKinds } from '@busway/proto';

const Id = z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only (it becomes a subject token)');

/** One piece of equipment and where it stands. */
export const AssetSchema = z.object({
  id: Id,
  /** cdu, pdu, rack, node, gpu, busway, tap, sensor, crah, ... */
  class: Id,
  hall: Id,
  /** @default "_" (not in a row) */
  row: Id.default('_'),
  /** Rack id, or an area id for plant equipment outside racks. @default "_" */
  rack: Id.default('_'),
  name: z.string().optional(),
  /** Electrical: ids of the assets this one feeds (busway -> taps -> racks -> PDUs). */
  feeds: z.array(Id).default([]),
  /** Thermal: ids of the racks this unit cools. */
  cools: z.array(Id).default([]),
  /** Containment: a GPU's node, a sensor's rack. */
  parent: Id.optional(),
});
export type Asset = z.infer<typeof AssetSchema>;

/** A source point and what it measures. */
export const PointSchema = z.object({
  /** Source identity: "<protocol>:<source id>:<metric name at source>". */
  pointId: z.string().min(3),
  asset: Id,
  /** Taxonomy name, e.g. temperature.coolant.supply; its first token is a quantity kind. */
  metric: z
    .string()
    .regex(/^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/, 'dotted lower-case taxonomy name')
    .refine((m) => kindOf(m) !== undefined, {
      message: `the first token must be a quantity kind: ${Object.keys(QuantityKinds).join(', ')}`,
    }),
  /** UCUM unit the source reports in, when the source does not say. */
  unit: z.string().optional(),
  /** Factor applied to the raw value before unit conversion (an SNMP reading in tenths: 0.1). @default 1 */
  scale: z.number().positive().optional(),
  /** Report by exception: a value within this much (canonical unit) of the last reported one is held back. */
  deadband: z.number().nonnegative().optional(),
});
export type Point = z.infer<typeof PointSchema>;

export const SiteModelSchema = z
  .object({
    site: Id,
    assets: z.array(AssetSchema),
    points: z.array(PointSchema).default([]),
  })
  .superRefine((model, ctx) => {
    const ids = new Set<string>();
    for (const [i, a] of model.assets.entries()) {
      if (ids.has(a.id))
        ctx.addIssue({ code: 'custom', path: ['assets', i, 'id'], message: `duplicate asset id ${a.id}` });
      ids.add(a.id);
    }
    for (const [i, p] of model.points.entries()) {
      if (!ids.has(p.asset))
        ctx.addIssue({ code: 'custom', path: ['points', i, 'asset'], message: `unknown asset ${p.asset}` });
    }
    for (const [i, a] of model.assets.entries()) {
      for (const ref of [...a.feeds, ...a.cools, ...(a.parent ? [a.parent] : [])]) {
        if (!ids.has(ref))
          ctx.addIssue({
            code: 'custom',
            path: ['assets', i],
            message: `${a.id} refers to unknown asset ${ref}`,
          });
      }
    }
  });
export type SiteModel = z.infer<typeof SiteModelSchema>;

/** Validates a site model; the error names the offending path. */
export function parseSiteModel(raw: unknown): SiteModel {
  const result = SiteModelSchema.safeParse(raw);
  if (result.success) return result.data;
  const problems = result.error.issues.slice(0, 10).map((i) => `${i.path.join('.')}: ${i.message}`);
  throw new Error(`invalid site model: ${problems.join('; ')}`);
}

/** Reads a site model file (YAML or JSON). */
export function readSiteModel(path: string): SiteModel {
  return parseSiteModel(parseYaml(readFileSync(path, 'utf8')));
}
