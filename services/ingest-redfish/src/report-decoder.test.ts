import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { busway, bigIntFromTimeNs, Long } from '@busway/proto';
import { decodeReport, type DecodeContext, type DecodedReport } from './report-decoder.js';

const INGEST = Long.fromString('1700000000000000000', true);
const ctx = (over: Partial<DecodeContext> = {}): DecodeContext => ({
  endpointId: 'bmc-1',
  baseUrl: 'https://10.0.0.9',
  units: {},
  definitionUnits: new Map(),
  ingestTimeNs: INGEST,
  ...over,
});

/** The DMTF MetricReport v1.5 example shape, as a BMC sends it. */
const dmtfReport = {
  '@odata.type': '#MetricReport.v1_5_0.MetricReport',
  '@odata.id': '/redfish/v1/TelemetryService/MetricReports/AvgPlatformPowerUsage',
  Id: 'AvgPlatformPowerUsage',
  Name: 'Average Platform Power Usage metric report',
  ReportSequence: '127',
  MetricReportDefinition: {
    '@odata.id': '/redfish/v1/TelemetryService/MetricReportDefinitions/AvgPlatformPowerUsage',
  },
  MetricValues: [
    {
      MetricId: 'AverageConsumedWatts',
      MetricValue: '100',
      Timestamp: '2016-11-08T12:25:00-05:00',
      MetricProperty: '/redfish/v1/Chassis/Tray_1/Power#/0/PowerConsumedWatts',
    },
    {
      MetricId: 'AverageConsumedWatts',
      MetricValue: '94',
      Timestamp: '2016-11-08T13:25:00-05:00',
      MetricProperty: '/redfish/v1/Chassis/Tray_1/Power#/0/PowerConsumedWatts',
    },
  ],
};

const asReport = (d: ReturnType<typeof decodeReport>): DecodedReport => {
  assert.equal(d.kind, 'report', d.kind === 'invalid' ? d.reason.message : d.kind);
  return d as DecodedReport;
};

describe('decodeReport', () => {
  it('turns the DMTF example into samples with the device time, its offset applied, and the sequence', () => {
    const r = asReport(decodeReport(JSON.stringify(dmtfReport), ctx()));
    assert.equal(r.reportId, 'AvgPlatformPowerUsage');
    assert.equal(r.sequence, 127n);
    assert.equal(r.rejects.length, 0);
    const [first, second] = r.samples;
    assert.equal(
      first?.pointId,
      'redfish:bmc-1:Chassis/Tray_1/Power/0/PowerConsumedWatts/AverageConsumedWatts',
    );
    assert.equal(first?.doubleValue, 100);
    assert.equal(second?.doubleValue, 94);
    assert.equal(first?.unit, 'W');
    assert.equal(bigIntFromTimeNs(first?.eventTimeNs), BigInt(Date.UTC(2016, 10, 8, 17, 25)) * 1_000_000n);
    assert.equal(first?.clockSource, busway.v1.ClockSource.CLOCK_SOURCE_DEVICE);
    assert.equal(first?.quality, busway.v1.Quality.QUALITY_GOOD);
    assert.equal(first?.sequence?.toString(), '127');
    assert.equal(
      first?.source?.address,
      'https://10.0.0.9/redfish/v1/Chassis/Tray_1/Power#/0/PowerConsumedWatts',
    );
  });

  it('falls back to the report Timestamp, then to the ingest time flagged no-source-time', () => {
    const withReportTime = {
      Id: 'R',
      Timestamp: '2024-05-01T00:00:00.000000001Z',
      MetricValues: [{ MetricId: 'A', MetricValue: '1' }],
    };
    const [a] = asReport(decodeReport(JSON.stringify(withReportTime), ctx())).samples;
    assert.equal(bigIntFromTimeNs(a?.eventTimeNs), BigInt(Date.UTC(2024, 4, 1)) * 1_000_000n + 1n);
    const [b] = asReport(
      decodeReport(
        JSON.stringify({ Id: 'R', MetricValues: [{ MetricId: 'A', MetricValue: '1', Timestamp: 'soon' }] }),
        ctx(),
      ),
    ).samples;
    assert.equal(b?.eventTimeNs?.toString(), INGEST.toString());
    assert.equal(b?.clockSource, busway.v1.ClockSource.CLOCK_SOURCE_INGEST);
    assert.deepEqual(b?.flags, ['bad-source-time', 'no-source-time']);
  });

  it('takes units from config first, then MetricDefinition Units, then the property name', () => {
    const body = JSON.stringify({
      Id: 'R',
      MetricValues: [
        { MetricId: 'Fan1', MetricValue: '9000', MetricDefinition: { '@odata.id': '/d/FanSpeed' } },
        { MetricId: 'Inlet', MetricValue: '21' },
        {
          MetricProperty: '/redfish/v1/Chassis/1/Power#/PowerControl/0/PowerConsumedWatts',
          MetricValue: '5',
        },
      ],
    });
    const units = ctx({ units: { Inlet: 'degF' }, definitionUnits: new Map([['/d/FanSpeed', '{rev}/min']]) });
    assert.deepEqual(
      asReport(decodeReport(body, units)).samples.map((s) => s.unit),
      ['{rev}/min', 'degF', 'W'],
    );
  });

  it('keeps a null MetricValue as a bad sample and lists unreadable values with the reason', () => {
    const body = JSON.stringify({
      Id: 'R',
      ReportSequence: 3,
      MetricValues: [
        { MetricId: 'A', MetricValue: null },
        { MetricValue: '1' },
        { MetricId: 'B', MetricValue: { x: 1 } },
        7,
      ],
    });
    const r = asReport(decodeReport(body, ctx()));
    assert.equal(r.samples.length, 1);
    assert.equal(r.samples[0]?.quality, busway.v1.Quality.QUALITY_BAD);
    assert.deepEqual(r.samples[0]?.flags, ['no-source-time', 'no-reading']);
    assert.deepEqual(
      r.rejects.map((x) => [x.index, x.metric]),
      [
        [1, undefined],
        [2, 'B'],
        [3, undefined],
      ],
    );
    assert.ok(r.rejects.every((x) => x.reason.length > 0));
  });

  it('tells alerts (Event) apart from reports, and refuses what is no report with the reason', () => {
    assert.equal(
      decodeReport(JSON.stringify({ '@odata.type': '#Event.v1_7_0.Event', Events: [] }), ctx()).kind,
      'other',
    );
    for (const [body, code] of [
      ['{"Id": "R", "MetricValues": [', 'decode-error'],
      ['[1,2]', 'contract-violation'],
      ['{"MetricValues": []}', 'contract-violation'],
      ['{"Id": "R", "MetricValues": {"a": 1}}', 'contract-violation'],
    ] as const) {
      const d = decodeReport(body, ctx());
      assert.equal(d.kind, 'invalid', body);
      if (d.kind === 'invalid') assert.equal(d.reason.code, code);
    }
  });

  it('gives a re-sent report the same fingerprint and a changed one another', () => {
    const a = asReport(decodeReport(JSON.stringify(dmtfReport), ctx()));
    const again = asReport(
      decodeReport(JSON.stringify(dmtfReport), ctx({ ingestTimeNs: Long.fromNumber(5, true) })),
    );
    const changed = asReport(
      decodeReport(JSON.stringify({ ...dmtfReport, Timestamp: '2016-11-08T14:00:00Z' }), ctx()),
    );
    assert.equal(a.fingerprint, again.fingerprint);
    assert.notEqual(a.fingerprint, changed.fingerprint);
  });

  it('never throws: any JSON or text ends as samples and rejects for every value, an event, or a reason (property)', () => {
    const metricValue = fc.record(
      {
        MetricId: fc.oneof(fc.string(), fc.constant(undefined), fc.integer()),
        MetricProperty: fc.oneof(
          fc.string(),
          fc.constantFrom(
            '/redfish/v1/Chassis/1/Power#/PowerControl/0/PowerConsumedWatts',
            '#',
            '/redfish/v1',
          ),
        ),
        MetricValue: fc.oneof(fc.string(), fc.double(), fc.constant(null), fc.boolean(), fc.jsonValue()),
        Timestamp: fc.oneof(
          fc.string(),
          fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
          fc.integer(),
        ),
      },
      { requiredKeys: [] },
    );
    const report = fc.record(
      {
        Id: fc.oneof(fc.string(), fc.integer()),
        '@odata.id': fc.string(),
        ReportSequence: fc.oneof(fc.string(), fc.nat(), fc.bigInt().map(String), fc.double()),
        Timestamp: fc.string(),
        MetricValues: fc.oneof(fc.array(fc.oneof(metricValue, fc.jsonValue())), fc.jsonValue()),
      },
      { requiredKeys: [] },
    );
    const body = fc.oneof(
      report.map((r) => JSON.stringify(r)),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.string(),
    );
    fc.assert(
      fc.property(body, (text) => {
        const d = decodeReport(text, ctx());
        if (d.kind === 'invalid') assert.ok(d.reason.code && d.reason.message);
        if (d.kind !== 'report') return;
        const values = (JSON.parse(text) as { MetricValues?: unknown }).MetricValues ?? [];
        assert.equal(d.samples.length + d.rejects.length, (values as unknown[]).length);
        for (const s of d.samples) {
          assert.ok(s.pointId?.startsWith('redfish:bmc-1:'));
          busway.v1.Sample.encode(s).finish(); // every sample fits the contract's wire form
        }
      }),
      { numRuns: 2000 },
    );
  });
});
