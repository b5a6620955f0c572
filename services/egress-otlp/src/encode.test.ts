import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { busway, Long } from '@busway/proto';
import { MetricsEncoder } from './encode.js';
import { attrsOf, decodeJsonRequest, decodeProtobufRequest, type ExportRequest } from './otlp-proto.js';
import { resourceAttributesOf } from './resource.js';
import { serializeMetrics } from './serialize.js';

const tok = fc.stringMatching(/^[a-z0-9-]{1,8}$/);
const pathArb = fc.record({
  site: fc.constant('ai1'),
  hall: fc.constantFrom('h1', 'h2'),
  row: fc.constantFrom('r1', 'r2'),
  rack: tok,
  assetClass: fc.constantFrom('cdu', 'pdu', 'node', 'gpu', 'rack'),
  asset: tok,
});
const metricArb = fc.constantFrom(
  'temperature.coolant.supply',
  'power.active',
  'flow.coolant',
  'energy.active',
  'count.gpu.pcie-replay',
);
const sampleArb = fc
  .tuple(
    pathArb,
    metricArb,
    fc.double({ min: -1e6, max: 1e6, noNaN: true }),
    fc.integer({ min: 1, max: 2 }),
    fc.bigInt({ min: 1n, max: 4_000_000_000_000_000_000n }),
  )
  .map(([path, metric, v, quality, ns]) => ({
    pointId: 'p',
    path,
    metric,
    doubleValue: v,
    unit: '',
    quality,
    eventTimeNs: Long.fromString(ns.toString(), true),
  }));

/** Every data point of a decoded request, flattened with what it belongs to. */
function pointsOf(req: ExportRequest) {
  return req.resourceMetrics.flatMap((rm) =>
    rm.scopeMetrics.flatMap((sm) =>
      sm.metrics.flatMap((m) =>
        (m.gauge?.dataPoints ?? m.sum?.dataPoints ?? []).map((p) => ({
          resource: attrsOf(rm.resource.attributes),
          metric: m,
          point: p,
        })),
      ),
    ),
  );
}

describe('normalized samples as OTLP metrics, decoded with the official opentelemetry-proto schema', () => {
  for (const protocol of ['http/protobuf', 'http/json'] as const) {
    it(`exports every numeric sample as one data point at its event time, on its asset's resource (${protocol})`, () => {
      fc.assert(
        fc.property(fc.array(sampleArb, { minLength: 1, maxLength: 30 }), (samples) => {
          const enc = new MetricsEncoder({
            serviceName: 'busway',
            metricPrefix: 'busway.',
            maxSeries: 1_000_000,
          });
          const { resourceMetrics, points } = enc.encode(samples);
          assert.equal(points, samples.length);
          const { body } = serializeMetrics(resourceMetrics, protocol);
          const req =
            protocol === 'http/protobuf'
              ? decodeProtobufRequest(body)
              : decodeJsonRequest(Buffer.from(body).toString());
          const decoded = pointsOf(req);
          assert.equal(decoded.length, samples.length);
          for (const s of samples) {
            const match = decoded.find(
              (d) =>
                d.resource['busway.asset.id'] === s.path.asset &&
                d.resource['busway.rack'] === s.path.rack &&
                d.resource['busway.asset.class'] === s.path.assetClass &&
                d.metric.name === `busway.${s.metric}` &&
                d.point.timeUnixNano === s.eventTimeNs.toString() &&
                d.point.asDouble === s.doubleValue,
            );
            assert.ok(match, `sample ${JSON.stringify(s)} is in the export`);
            const counter = s.metric.startsWith('energy.') || s.metric.startsWith('count.');
            assert.equal(match.metric.sum !== undefined, counter, 'counters are sums, the rest gauges');
            if (counter) {
              assert.equal(match.metric.sum?.aggregationTemporality, 'AGGREGATION_TEMPORALITY_CUMULATIVE');
              assert.equal(match.metric.sum?.isMonotonic, true);
              assert.ok(BigInt(match.point.startTimeUnixNano) <= BigInt(match.point.timeUnixNano));
            }
            assert.equal(match.resource['service.name'], 'busway');
          }
          // one resource per asset
          const assets = new Set(
            samples.map(
              (s) => `${s.path.hall}/${s.path.row}/${s.path.rack}/${s.path.assetClass}/${s.path.asset}`,
            ),
          );
          assert.equal(req.resourceMetrics.length, assets.size);
        }),
        { numRuns: 150 },
      );
    });
  }

  it('gives units and descriptions from the taxonomy when the sample has no unit', () => {
    const enc = new MetricsEncoder({ serviceName: 's', metricPrefix: 'dc.', maxSeries: 10 });
    const s = {
      pointId: 'p',
      path: { site: 'a', hall: 'h', row: 'r', rack: 'k', assetClass: 'cdu', asset: 'c' },
      metric: 'flow.coolant',
      doubleValue: 3,
    };
    const [metric] =
      decodeProtobufRequest(serializeMetrics(enc.encode([s]).resourceMetrics, 'http/protobuf').body)
        .resourceMetrics[0]?.scopeMetrics[0]?.metrics ?? [];
    assert.equal(metric?.name, 'dc.flow.coolant');
    assert.equal(metric?.unit, 'L/min');
    assert.equal(metric?.description, 'liquid coolant flow');
  });

  it('starts a counter where its series was first seen, and again where it went down (a reset)', () => {
    const enc = new MetricsEncoder({ serviceName: 's', metricPrefix: '', maxSeries: 10 });
    const path = { site: 'a', hall: 'h', row: 'r', rack: 'k', assetClass: 'pdu', asset: 'p' };
    const at = (ms: number, v: number) => ({
      pointId: 'p',
      path,
      metric: 'energy.active',
      doubleValue: v,
      eventTimeNs: Long.fromNumber(ms * 1e6, true),
    });
    const starts = [at(1000, 5), at(2000, 7), at(3000, 1), at(4000, 2)].map((s) => {
      const req = decodeProtobufRequest(
        serializeMetrics(enc.encode([s]).resourceMetrics, 'http/protobuf').body,
      );
      return pointsOf(req)[0]?.point.startTimeUnixNano;
    });
    assert.deepEqual(starts, ['1000000000', '1000000000', '3000000000', '3000000000']);
  });

  it('skips text, bad and stale samples and never exports more series than maxSeries', () => {
    const enc = new MetricsEncoder({ serviceName: 's', metricPrefix: '', maxSeries: 2 });
    const p = (asset: string) => ({ site: 'a', hall: 'h', row: 'r', rack: 'k', assetClass: 'cdu', asset });
    const out = enc.encode([
      { path: p('a'), metric: 'state.running', stringValue: 'on' },
      { path: p('a'), metric: 'power.active', doubleValue: 1, quality: busway.v1.Quality.QUALITY_BAD },
      { path: p('a'), metric: 'power.active', doubleValue: 1, quality: busway.v1.Quality.QUALITY_STALE },
      { path: p('a'), metric: 'power.active', doubleValue: 2 },
      { path: p('b'), metric: 'power.active', boolValue: true },
      { path: p('c'), metric: 'power.active', doubleValue: 3 },
      { path: p('a'), metric: 'power.active', doubleValue: 4 },
    ]);
    assert.equal(out.points, 3);
    assert.deepEqual(out.skipped, { 'not-numeric': 1, 'bad-quality': 2, 'series-limit': 1 });
    assert.equal(enc.seriesCount, 2);
  });

  it('names the host of a node and of its GPUs, and the asset name and parent from the registry', () => {
    const lookup = (id: string) =>
      id === 'gpu-3' ? { class: 'gpu', parent: 'node-7', name: 'GPU 3' } : undefined;
    const gpu = resourceAttributesOf(
      'busway',
      { site: 's', hall: 'h', row: 'r', rack: 'k', assetClass: 'gpu', asset: 'gpu-3' },
      lookup,
    );
    assert.equal(gpu['host.name'], 'node-7');
    assert.equal(gpu['busway.asset.parent'], 'node-7');
    assert.equal(gpu['busway.asset.name'], 'GPU 3');
    const node = resourceAttributesOf('busway', { assetClass: 'node', asset: 'node-7' }, undefined);
    assert.equal(node['host.name'], 'node-7');
  });
});
