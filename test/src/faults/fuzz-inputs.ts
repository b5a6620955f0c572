// Adversarial fabric messages for the pipeline stages: random bytes, wrong types, and well-formed batches of
// samples with hostile fields (NaN, infinities, empty ids, unknown enum values, any unit, any time).
import fc from 'fast-check';
import { busway, EventTypes, Long, timeNsFromBigInt, unsSubject } from '@busway/proto';
import type { SiteModel } from '@busway/registry';

/** One message to publish: its subject, ce-type (none: no headers at all) and payload. */
export interface FuzzMessage {
  subject: string;
  type?: string;
  data: Uint8Array;
}

const U64 = (1n << 64n) - 1n;
const nowMs = () => BigInt(Date.now());

/** Times from the whole u64 range, the epoch, and the recent past; `maxAheadMs` bounds the future. */
function timeArb(maxAheadMs: number | undefined): fc.Arbitrary<Long | undefined> {
  const recent = fc
    .integer({ min: -600_000, max: Math.min(maxAheadMs ?? 5000, 5000) })
    .map((d) => timeNsFromBigInt((nowMs() + BigInt(d)) * 1_000_000n));
  const any =
    maxAheadMs === undefined
      ? fc.bigInt({ min: 0n, max: U64 }).map(timeNsFromBigInt)
      : fc.bigInt({ min: 0n, max: nowMs() * 1_000_000n }).map(timeNsFromBigInt);
  return fc.oneof(fc.constant(undefined), fc.constant(Long.UZERO), recent, any);
}

const valueArb = fc.oneof(
  fc.record({ doubleValue: fc.double() }), // NaN, ±Infinity, -0 included
  fc.record({
    intValue: fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }).map((b) => Long.fromString(String(b))),
  }),
  fc.record({ boolValue: fc.boolean() }),
  fc.record({ stringValue: fc.string({ maxLength: 40 }) }),
  fc.constant({}),
);

const UNITS = ['Cel', 'W', 'kW', 'degF', '%', '', 'L/min', 'LPM', 'kPa', 'furlong', 'kW.h', 'V', 'A'];

/**
 * A sample: a registered point (as the site model knows it) or any id, any value, any unit, any time,
 * enum values past the defined ones, and (`withPath`) a UNS path and metric for the stages after the normalizer.
 */
export interface SampleArbOptions {
  /** Give samples a UNS path and metric (the stages after the normalizer). */
  withPath: boolean;
  /** Latest event time, ms ahead of now. @default any u64 */
  maxAheadMs?: number;
  /** Largest sequence. @default 2^64 − 1 */
  maxSequence?: bigint;
}

export function sampleArb(model: SiteModel, opts: SampleArbOptions): fc.Arbitrary<busway.v1.ISample> {
  const points = model.points.slice(0, 40);
  const assets = new Map(model.assets.map((a) => [a.id, a]));
  const registered = fc.constantFrom(...points);
  return fc
    .record({
      point: fc.option(registered, { nil: undefined }),
      pointId: fc.oneof(fc.string({ maxLength: 30 }), fc.constant('')),
      unit: fc.oneof(fc.constantFrom(...UNITS), fc.string({ maxLength: 8 }), fc.constant(undefined)),
      value: valueArb,
      eventTimeNs: timeArb(opts.maxAheadMs),
      ingestTimeNs: timeArb(opts.maxAheadMs),
      clockSource: fc.integer({ min: 0, max: 9 }),
      quality: fc.integer({ min: 0, max: 9 }),
      sequence: fc.option(
        fc.bigInt({ min: 0n, max: opts.maxSequence ?? U64 }).map((b) => Long.fromString(String(b), true)),
        {
          nil: undefined,
        },
      ),
      flags: fc.array(fc.string({ maxLength: 12 }), { maxLength: 3 }),
      metric: fc.oneof(
        fc.constantFrom('power.active', 'temperature.coolant.return', 'flow.coolant'),
        fc.string({ maxLength: 20 }),
      ),
      hasPath: fc.boolean(),
    })
    .map((r) => {
      const asset = r.point ? assets.get(r.point.asset) : undefined;
      const s: busway.v1.ISample = {
        pointId: r.point?.pointId ?? r.pointId,
        ...r.value,
        unit: r.unit ?? r.point?.unit,
        eventTimeNs: r.eventTimeNs,
        ingestTimeNs: r.ingestTimeNs,
        clockSource: r.clockSource,
        quality: r.quality,
        sequence: r.sequence,
        flags: r.flags,
      };
      if (opts.withPath && (r.hasPath || asset)) {
        s.path = {
          site: model.site,
          hall: asset?.hall ?? 'h1',
          row: asset?.row ?? 'r1',
          rack: asset?.rack ?? 'r1-01',
          assetClass: asset?.class ?? 'sensor',
          asset: asset?.id ?? 'fuzz',
        };
        s.metric = r.point?.metric ?? r.metric;
        // a point id belongs to one UNS subject, as the registry makes it
        if (!r.point) s.pointId = `fuzz:${unsSubject(s.path, s.metric)}`;
      }
      return s;
    });
}

/**
 * A message on `subject`: mostly sample batches, some random bytes, some truncated batches, some with a
 * ce-type the stage does not read, some without any header.
 */
export function messageArb(
  model: SiteModel,
  subject: fc.Arbitrary<string>,
  opts: SampleArbOptions,
): fc.Arbitrary<FuzzMessage> {
  const batch = fc
    .array(sampleArb(model, opts), { maxLength: 8 })
    .map((samples) => busway.v1.SampleBatch.encode({ samples }).finish());
  return fc.oneof(
    { weight: 6, arbitrary: fc.record({ subject, type: fc.constant(EventTypes.SampleBatch), data: batch }) },
    {
      weight: 1,
      arbitrary: fc.record({
        subject,
        type: fc.constant(EventTypes.SampleBatch),
        data: fc.uint8Array({ maxLength: 64 }),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        subject,
        type: fc.constant(EventTypes.SampleBatch),
        data: batch.filter((b) => b.length > 2).map((b) => b.subarray(0, b.length - 1)),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        subject,
        type: fc.constantFrom('busway.v1.Nope', '', 'text/plain'),
        data: batch,
      }),
    },
    { weight: 1, arbitrary: fc.record({ subject, data: batch }) },
  );
}

/** The samples a stage decodes from a message, or undefined when the payload is not a SampleBatch. */
export function decodedSamples(m: FuzzMessage): busway.v1.ISample[] | undefined {
  if (m.type !== EventTypes.SampleBatch) return undefined;
  try {
    return busway.v1.SampleBatch.decode(m.data).samples;
  } catch {
    return undefined;
  }
}
