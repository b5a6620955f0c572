import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Long, org } from '@busway/proto';
import { metricsToSamples, type MetricDef } from './decoder.js';
import { PayloadScanner } from './payload-scanner.js';
import type { MetricView, PayloadView } from './payload-view.js';
import { mangledArb, payloadArb, plainNdataArb } from './payload-arbitraries.js';
import { parseTopic } from './topic.js';

const Payload = org.eclipse.tahu.protobuf.Payload;

/** As the bridge reads a 64-bit field: a number as it is, a Long by toNumber. */
const num = (v: Long | number | null | undefined) =>
  v == null ? 0 : typeof v === 'number' ? v : v.toNumber();
/** The fields the bridge reads of a metric, with the generated decoder's defaults for what is absent. */
const readOf = (m: MetricView) => ({
  name: m.name ?? '',
  hasAlias: Object.hasOwn(m, 'alias'),
  alias: num(m.alias),
  timestamp: num(m.timestamp),
  datatype: m.datatype ?? 0,
  flags: [m.isHistorical ?? false, m.isTransient ?? false, m.isNull ?? false],
  values: [
    m.intValue,
    m.longValue?.toString(),
    m.floatValue,
    m.doubleValue,
    m.booleanValue,
    m.stringValue,
  ].map((v) => v ?? null),
});
const ctx = () => ({
  topic: parseTopic('spBv1.0/g/NDATA/e'),
  address: 'spBv1.0/g/NDATA/e',
  byAlias: new Map<number, MetricDef>(),
  byName: new Map<string, MetricDef>(),
  ingestTimeNs: Long.fromNumber(1, true),
});

/** Whether the scanner reads `bytes` as the generated decoder does, or leaves them to it. */
function agrees(scanner: PayloadScanner, bytes: Uint8Array): PayloadView | undefined {
  const scanned = scanner.scan(bytes);
  let decoded: org.eclipse.tahu.protobuf.Payload | undefined;
  try {
    decoded = Payload.decode(bytes);
  } catch {
    assert.equal(scanned, undefined, 'the scanner read bytes the generated decoder refuses');
  }
  if (!scanned || !decoded) return scanned;
  assert.equal(num(scanned.timestamp), num(decoded.timestamp));
  assert.equal(num(scanned.seq), num(decoded.seq));
  assert.deepEqual(scanned.metrics.map(readOf), decoded.metrics.map(readOf));
  // and the samples the bridge makes of them (aliases unknown here: both throw alike)
  const samples = (p: PayloadView) => {
    try {
      return metricsToSamples(p, ctx());
    } catch (err) {
      return (err as Error).message;
    }
  };
  assert.deepEqual(samples(scanned), samples(decoded));
  return scanned;
}

describe('Sparkplug payload scanner', () => {
  it('reads payloads as the generated decoder does, or leaves them to it', () => {
    const scanner = new PayloadScanner();
    fc.assert(
      fc.property(payloadArb, (p) => {
        agrees(scanner, Payload.encode(p).finish());
      }),
      { numRuns: 1000 },
    );
  });

  it('agrees with the generated decoder on mangled and random bytes', () => {
    const scanner = new PayloadScanner();
    fc.assert(
      fc.property(fc.oneof(mangledArb, fc.uint8Array({ maxLength: 64 })), (bytes) => {
        agrees(scanner, bytes);
      }),
      { numRuns: 3000 },
    );
  });

  it('reads an NDATA of scalar metrics itself: by name or by alias, each with a timestamp', () => {
    const scanner = new PayloadScanner();
    fc.assert(
      fc.property(plainNdataArb, (payload) => {
        const scanned = agrees(scanner, Payload.encode(payload).finish());
        assert.ok(scanned, 'a plain NDATA went to the generated decoder');
        assert.equal(scanned.metrics.length, payload.metrics.length);
      }),
    );
  });

  it('leaves a compressed payload and a metric with properties to the generated decoder', () => {
    const scanner = new PayloadScanner();
    const compressed = Payload.encode({ uuid: 'SPBV1.0_COMPRESSED', body: new Uint8Array([1, 2]) }).finish();
    assert.equal(scanner.scan(compressed), undefined);
    const withUnit = Payload.encode({
      metrics: [{ name: 'p', datatype: 10, doubleValue: 1, properties: { keys: ['engUnit'], values: [] } }],
    }).finish();
    assert.equal(scanner.scan(withUnit), undefined);
  });
});
