// The correlation rules: a validated file (YAML or JSON), with the built-in set as the default.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { kindOf } from '@busway/proto';
import { ConfigError } from '@busway/runtime';

const Id = z
  .string()
  .regex(/^[a-z0-9_-]+$/, 'lower-case letters, digits, _ and - (it becomes a subject token)');
const Metric = z
  .string()
  .regex(/^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/, 'a dotted taxonomy name')
  .refine((m) => kindOf(m) !== undefined, {
    message: 'the first token must be a quantity kind of the taxonomy',
  });
const Classes = z.array(Id).min(1);
const Ms = z.number().int().min(0);

/**
 * Where a rule looks, relative to a rack: `rack` (assets standing in it: PDUs, sensors), `feeders` (the power
 * chain above it and its PDUs: taps, busways), `coolers` (CDUs, CRAHs cooling it).
 */
export const Selector = z.enum(['rack', 'feeders', 'coolers']);
export type Selector = z.infer<typeof Selector>;

/** A power series that answers a cause with a step up. */
export const PowerTargetSchema = z.object({
  select: Selector,
  classes: Classes,
  metric: Metric.default('power.active'),
  /** Link role in the incident chain. */
  role: Id.default('power-response'),
  /** Smallest step between two consecutive samples, in the metric's canonical unit (W). */
  minStep: z.number().positive(),
  /** How long after the cause the step may come. */
  windowMs: Ms.default(10_000),
  /** How long before the cause's timestamp the step may come (clock skew between IT and OT). */
  leadMs: Ms.default(1000),
  /** Whether the incident's confidence counts this target. */
  required: z.boolean().default(true),
});
export type PowerTarget = z.infer<typeof PowerTargetSchema>;

/** A thermal series that answers a power step: dead time, then a first-order rise (or a step). */
export const ThermalTargetSchema = z.object({
  select: Selector,
  classes: Classes,
  metric: Metric,
  role: Id.default('thermal-response'),
  /** Smallest rise above the pre-step trend, in the metric's canonical unit (Cel). */
  minRise: z.number().positive(),
  /** Earliest answer after the power step (transport delay lower bound). */
  minDelayMs: Ms.default(0),
  /** Latest answer after the power step. */
  maxDelayMs: Ms.default(30_000),
  /** Time constant of the response model; 0 for an immediate step (air at a rack inlet). */
  timeConstantMs: Ms.default(0),
  /** Data needed after the onset before the onset is fitted. */
  settleMs: Ms.default(5000),
  /** Trend window before the power step. */
  preMs: Ms.default(10_000),
  /** Classes whose power steps drive this series (in the racks it cools or stands in). */
  loadClasses: Classes.default(['pdu']),
  /**
   * Spread of the delay between events: the delay this series showed in its recent matches weighs in as a
   * prior of this width until its first-order matches measure the spread themselves (step answers keep it);
   * one event at 1 Hz alone carries 0.2-0.4 s of noise; 0 measures each event alone.
   */
  delayPriorSdMs: Ms.default(0),
  /**
   * The loop's flow on the same asset (e.g. flow.coolant): when it changes, the heat already in the loop shows
   * more or less, and the fit takes that in instead of reading it as the answer to a load step; and the delay
   * the series learned is expected at the flow of each step's own transit (a lower flow, a longer delay).
   */
  flowMetric: z.string().min(1).optional(),
  required: z.boolean().default(true),
});
export type ThermalTarget = z.infer<typeof ThermalTargetSchema>;

const Base = { name: Id, kind: Id };

/** A job lifecycle event on nodes -> power steps on their racks and power chain -> thermal answers. */
export const JobChainRuleSchema = z.object({
  ...Base,
  type: z.literal('job-chain'),
  phases: z.array(z.enum(['started'])).default(['started']),
  power: z.array(PowerTargetSchema).min(1),
  /** Measured from the power step of the same rack (the first required power target's). */
  thermal: z.array(ThermalTargetSchema).default([]),
});

/** A grid signal -> the facility load (sum of the roots of the power chain) changes. */
export const GridResponseRuleSchema = z.object({
  ...Base,
  type: z.literal('grid-response'),
  /** OpenADR payload types that trigger the rule; empty: any. */
  signalTypes: z.array(z.string().min(1)).default([]),
  /** Classes of the facility meters: the roots of the power chain with these classes are summed. */
  meterClasses: Classes.default(['meter', 'switchboard', 'busway']),
  metric: Metric.default('power.active'),
  /** Smallest change of the facility load from its pre-signal level, in W. */
  minChange: z.number().positive(),
  direction: z.enum(['down', 'up', 'any']).default('any'),
  /** Level before the signal: mean over this window. */
  baselineMs: Ms.default(30_000),
  /** How long after the signal's start the load may answer. */
  windowMs: Ms.default(300_000),
  /** The change must hold this long. */
  sustainMs: Ms.default(5000),
});

/** A rack power step that no job explains. */
export const UnexplainedPowerRuleSchema = z.object({
  ...Base,
  type: z.literal('unexplained-power'),
  watch: z.object({
    classes: Classes,
    metric: Metric.default('power.active'),
    minStep: z.number().positive(),
  }),
  /** Job-chain rules whose open windows explain a step on their racks. */
  explainedBy: z.array(Id).min(1),
  /** Thermal answers followed, as for a job. */
  thermal: z.array(ThermalTargetSchema).default([]),
});

/** A thermal rise that no load explains: the load model of the series does not account for it. */
export const UnexplainedThermalRuleSchema = z.object({
  ...Base,
  type: z.literal('unexplained-thermal'),
  watch: z
    .array(
      z.object({
        classes: Classes,
        metric: Metric,
        /** Smallest unexplained rise, in the metric's canonical unit (Cel). */
        minRise: z.number().positive(),
        /** The rise must hold this long (a one-sample spike is a sensor fault, not a thermal answer). */
        sustainMs: Ms.default(3000),
        /** Level window before the rise. */
        preMs: Ms.default(20_000),
        /** The load model: dead time range and time constant of the answer to a load step. */
        minDelayMs: Ms.default(0),
        maxDelayMs: Ms.default(30_000),
        timeConstantMs: Ms.default(0),
        loadClasses: Classes.default(['pdu']),
      }),
    )
    .min(1),
});

export const RuleSchema = z.discriminatedUnion('type', [
  JobChainRuleSchema,
  GridResponseRuleSchema,
  UnexplainedPowerRuleSchema,
  UnexplainedThermalRuleSchema,
]);
export type Rule = z.infer<typeof RuleSchema>;
export type JobChainRule = z.infer<typeof JobChainRuleSchema>;
export type GridResponseRule = z.infer<typeof GridResponseRuleSchema>;
export type UnexplainedPowerRule = z.infer<typeof UnexplainedPowerRuleSchema>;
export type UnexplainedThermalRule = z.infer<typeof UnexplainedThermalRuleSchema>;

export const RuleSetSchema = z
  .object({ version: z.literal(1).default(1), rules: z.array(RuleSchema).min(1) })
  .superRefine((set, ctx) => {
    const names = new Set<string>();
    for (const [i, r] of set.rules.entries()) {
      if (names.has(r.name))
        ctx.addIssue({
          code: 'custom',
          path: ['rules', i, 'name'],
          message: `duplicate rule name ${r.name}`,
        });
      names.add(r.name);
    }
    const jobRules = new Set(set.rules.filter((r) => r.type === 'job-chain').map((r) => r.name));
    for (const [i, r] of set.rules.entries()) {
      if (r.type !== 'unexplained-power') continue;
      for (const ref of r.explainedBy)
        if (!jobRules.has(ref))
          ctx.addIssue({
            code: 'custom',
            path: ['rules', i, 'explainedBy'],
            message: `${ref} is not a job-chain rule of this file`,
          });
    }
  });
export type RuleSet = z.infer<typeof RuleSetSchema>;

/** The coolant answer of the CDUs and CRAHs that cool a stepped rack: a first-order rise after a loop delay. */
const COOLANT_RETURN_RESPONSE = {
  select: 'coolers',
  classes: ['cdu', 'crah'],
  metric: 'temperature.coolant.return',
  minRise: 0.3,
  minDelayMs: 500,
  maxDelayMs: 10_000,
  timeConstantMs: 20_000,
  settleMs: 20_000,
  delayPriorSdMs: 250,
  flowMetric: 'flow.coolant',
} satisfies z.input<typeof ThermalTargetSchema>;

/** The built-in rules: what the correlator did before rules were configurable, plus the unexplained cases. */
export const DEFAULT_RULES = {
  version: 1,
  rules: [
    {
      name: 'job-power-thermal',
      kind: 'job-power-thermal',
      type: 'job-chain',
      power: [
        { select: 'rack', classes: ['pdu'], minStep: 1000, windowMs: 10_000 },
        {
          select: 'feeders',
          classes: ['tap', 'busway'],
          role: 'power-chain-response',
          minStep: 1000,
          windowMs: 10_000,
          required: false,
        },
      ],
      thermal: [
        COOLANT_RETURN_RESPONSE,
        {
          select: 'rack',
          classes: ['sensor'],
          metric: 'temperature.air.inlet',
          role: 'air-response',
          minRise: 0.5,
          maxDelayMs: 5000,
          settleMs: 3000,
          // a step seen at 1 Hz fits any delay up to the next sample: the delays other steps showed narrow it
          delayPriorSdMs: 250,
          required: false,
        },
      ],
    },
    {
      name: 'unexplained-power-transient',
      kind: 'unexplained-power-transient',
      type: 'unexplained-power',
      watch: { classes: ['pdu'], minStep: 1000 },
      explainedBy: ['job-power-thermal'],
      thermal: [{ ...COOLANT_RETURN_RESPONSE, required: false }],
    },
    {
      name: 'unexplained-thermal-rise',
      kind: 'unexplained-thermal-rise',
      type: 'unexplained-thermal',
      watch: [
        {
          classes: ['cdu', 'crah'],
          metric: 'temperature.coolant.return',
          minRise: 0.6,
          sustainMs: 5000,
          preMs: 40_000,
          minDelayMs: 500,
          maxDelayMs: 10_000,
          timeConstantMs: 20_000,
        },
        {
          classes: ['sensor'],
          metric: 'temperature.air.inlet',
          minRise: 2,
          sustainMs: 3000,
          maxDelayMs: 5000,
        },
      ],
    },
    {
      name: 'grid-load-response',
      kind: 'grid-load-response',
      type: 'grid-response',
      minChange: 5000,
    },
  ],
} satisfies z.input<typeof RuleSetSchema>;

/** Validates a rule set; the error names the offending path. */
export function parseRules(raw: unknown, origin = 'rules'): RuleSet {
  const result = RuleSetSchema.safeParse(raw);
  if (result.success) return result.data;
  const problems = result.error.issues
    .slice(0, 10)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  throw new ConfigError(`invalid correlation rules (${origin}): ${problems.join('; ')}`);
}

/** Reads and validates a rules file (YAML or JSON); without a path, the built-in rules. */
export function loadRules(path?: string): RuleSet {
  if (!path) return parseRules(DEFAULT_RULES, 'built-in');
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(`cannot read rules file ${path}: ${(err as Error).message}`, { cause: err });
  }
  return parseRules(doc, path);
}
