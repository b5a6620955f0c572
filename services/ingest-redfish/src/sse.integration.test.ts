import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { busway, bigIntFromTimeNs } from '@busway/proto';
import type { RunningWorker, WorkerRuntime } from '@busway/runtime';
import { RedfishService } from '@busway/simulator';
import { startNats, waitFor, type TestServer } from '@busway/testkit';
import {
  auditOf,
  batchesOf,
  deadLetters,
  node,
  outcome,
  samplesOf,
  sequencesOf,
  startBridge,
} from './test-fixtures.js';

const POWER = 'redfish:bmc-a:Chassis/n1/Power/PowerControl/0/PowerConsumedWatts';

describe('Redfish bridge over SSE, with session auth', () => {
  let nats: TestServer;
  let bmc: RedfishService;
  let plain: RedfishService;
  let rt: WorkerRuntime;
  let worker: RunningWorker;

  before(async () => {
    nats = await startNats();
    bmc = await RedfishService.start({
      chassis: [node('n1', 1200, [55.5, 56.25])],
      quirks: { omitMetricId: true, timestampOffsetMin: -300, fractionDigits: 9 },
      features: { basicAuth: false },
    });
    // an older firmware: no $filter, alerts on the same stream, MetricValue as JSON numbers
    plain = await RedfishService.start({
      chassis: [node('n9', 700)],
      quirks: { sseFilter: false, numericValues: true },
    });
    const endpoints = [
      { id: 'bmc-a', url: bmc.url, username: 'admin', password: 'redfish', sseIdleTimeoutMs: 60_000 },
      { id: 'bmc-b', url: plain.url, username: 'admin', password: 'redfish' },
    ];
    ({ rt, worker } = await startBridge(nats.url, endpoints, { BUSWAY_MAX_REPORT_BYTES: '16384' }));
    await waitFor('both streams open', () => bmc.events.streams === 1 && plain.events.streams === 1, 10_000);
  });

  after(async () => {
    await rt?.stop(); // stops the worker too
    await bmc?.close();
    await plain?.close();
    await nats?.dispose();
  });

  it('stores each report as one batch: MetricProperty-derived metrics, device time with offset and nanoseconds, units', async () => {
    const report = bmc.emitReport();
    await waitFor('the first batch', async () => (await batchesOf(rt, 'bmc-a')).length === 1);
    const [batch] = await batchesOf(rt, 'bmc-a');
    assert.equal(batch?.id.startsWith('redfish:bmc-a:PowerThermal:1:'), true, batch?.id);
    const samples = batch?.samples ?? [];
    assert.deepEqual(
      samples.map((s) => [s.pointId, s.doubleValue, s.unit]),
      [
        [POWER, 1200, 'W'],
        ['redfish:bmc-a:Chassis/n1/Thermal/Temperatures/0/ReadingCelsius', 55.5, 'Cel'],
        ['redfish:bmc-a:Chassis/n1/Thermal/Temperatures/1/ReadingCelsius', 56.25, 'Cel'],
      ],
    );
    // "…T07:12:03.123456789-05:00" is 12:12:03.123456789 UTC, to the nanosecond
    const stamp = String(report.Timestamp);
    assert.match(stamp, /\.\d{9}-05:00$/);
    const [date, clock] = stamp.slice(0, -6).split('T') as [string, string];
    const [hms, frac] = clock.split('.') as [string, string];
    const expected = BigInt(Date.parse(`${date}T${hms}Z`) + 5 * 3_600_000) * 1_000_000n + BigInt(frac);
    assert.equal(bigIntFromTimeNs(samples[0]?.eventTimeNs), expected);
    assert.equal(samples[0]?.clockSource, busway.v1.ClockSource.CLOCK_SOURCE_DEVICE);
    assert.equal(
      JSON.parse((await auditOf(rt, 'bmc-a'))[0] ?? '{}').ReportSequence,
      '1',
      'the raw report is on AUDIT',
    );
  });

  it('drops a re-sent report and counts a ReportSequence gap', async () => {
    bmc.resendReport();
    bmc.skipSequence(3);
    bmc.emitReport();
    await waitFor('the report after the gap', async () => (await batchesOf(rt, 'bmc-a')).length === 2);
    assert.deepEqual(await sequencesOf(rt, 'bmc-a'), [1, 5]);
    assert.equal(await outcome(rt, 'report-repeated'), 1);
    assert.equal(await outcome(rt, 'report-gap'), 1);
    assert.equal(await outcome(rt, 'reports-missed'), 3);
  });

  it('dead-letters a malformed event and unreadable values with the reason, and keeps the readable ones', async () => {
    bmc.emitRaw('{"Id": "PowerThermal", "MetricValues": [');
    bmc.emitRaw(
      JSON.stringify({
        Id: 'Odd',
        ReportSequence: '1',
        MetricValues: [
          { MetricId: 'Good', MetricValue: '3' },
          { MetricId: 'Bad', MetricValue: { nested: true } },
        ],
      }),
    );
    await waitFor('two dead letters', async () => (await deadLetters(rt)).length === 2);
    const [notJson, values] = await deadLetters(rt);
    assert.equal(notJson?.code, 'decode-error');
    assert.match(notJson?.reason ?? '', /not JSON/);
    assert.equal(notJson?.body, '{"Id": "PowerThermal", "MetricValues": [', 'the original body is kept');
    assert.equal(values?.code, 'contract-violation');
    assert.match(values?.reason ?? '', /1 MetricValue\(s\) unreadable/);
    assert.deepEqual(JSON.parse(values?.body ?? '{}').rejects[0].value, {
      MetricId: 'Bad',
      MetricValue: { nested: true },
    });
    await waitFor('the good value', async () =>
      (await samplesOf(rt, 'bmc-a')).some((s) => s.pointId === 'redfish:bmc-a:Good'),
    );
  });

  it('dead-letters an event over maxReportBytes and reads on', async () => {
    const stored = (await batchesOf(rt, 'bmc-a')).length;
    bmc.emitRaw(
      JSON.stringify({ Id: 'Big', MetricValues: [{ MetricId: 'Blob', MetricValue: 'x'.repeat(20_000) }] }),
    );
    await waitFor('the dead letter', async () =>
      (await deadLetters(rt)).some((d) => d.code === 'report-too-large'),
    );
    assert.equal(bmc.events.sseResumes.length, 1, 'the stream goes on: no reconnect');
    bmc.emitReport();
    await waitFor('the next report', async () => (await batchesOf(rt, 'bmc-a')).length === stored + 1);
  });

  it('reconnects after a dropped stream with Last-Event-ID, and the service resends what was missed', async () => {
    const before = (await batchesOf(rt, 'bmc-a')).length;
    bmc.dropConnections();
    bmc.emitReport(); // while no stream is open: only the history has it
    await waitFor(
      'a new stream',
      () => bmc.events.sseResumes.length === 2 && bmc.events.streams === 1,
      10_000,
    );
    assert.match(bmc.events.sseResumes[1] ?? '', /^\d+$/, 'the reconnect named the last event it had');
    bmc.emitReport();
    await waitFor('both reports', async () => (await batchesOf(rt, 'bmc-a')).length === before + 2);
    assert.deepEqual((await sequencesOf(rt, 'bmc-a')).slice(-2), [7, 8]);
    assert.equal(await outcome(rt, 'report-gap'), 1, 'no new gap: nothing was lost');
  });

  it('logs in again when the session expires and goes on reading', async () => {
    const logins = bmc.counts.logins;
    bmc.expireSessions();
    bmc.dropConnections();
    await waitFor('a new login', () => bmc.counts.logins > logins, 10_000);
    await waitFor('a new stream', () => bmc.events.streams === 1, 10_000);
    assert.ok(bmc.counts.unauthorized >= 1, 'the old token was refused first');
    bmc.emitReport();
    await waitFor('the report after the new login', async () => (await sequencesOf(rt, 'bmc-a')).includes(9));
  });

  it('reads a service that refuses $filter without it, skipping alerts, with JSON-number values', async () => {
    await waitFor(
      'the unfiltered stream',
      () => plain.events.sseResumes.length >= 1 && plain.events.streams === 1,
    );
    assert.ok(plain.requests.some((r) => r === 'GET /redfish/v1/EventService/SSE'));
    plain.emitRaw(
      JSON.stringify({
        '@odata.type': '#Event.v1_7_0.Event',
        Id: '1',
        Events: [{ MessageId: 'Base.1.0.Alert' }],
      }),
    );
    plain.emitReport();
    await waitFor('the report', async () => (await samplesOf(rt, 'bmc-b')).length === 3);
    const samples = await samplesOf(rt, 'bmc-b');
    assert.equal(samples[0]?.doubleValue, 700);
    assert.equal(await outcome(rt, 'event-skipped'), 1);
  });

  it('closes its sessions on stop', async () => {
    await worker.stop();
    assert.deepEqual(bmc.sessionIds(), []);
    assert.deepEqual(plain.sessionIds(), []);
  });
});
