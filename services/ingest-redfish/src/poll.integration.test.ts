import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { busway } from '@busway/proto';
import type { WorkerRuntime } from '@busway/runtime';
import { RedfishService } from '@busway/simulator';
import { startNats, waitFor, type TestServer } from '@busway/testkit';
import {
  auditOf,
  batchesOf,
  deadLetters,
  makeCertificates,
  node,
  outcome,
  samplesOf,
  sequencesOf,
  startBridge,
} from './test-fixtures.js';

const POLL = { pollIntervalMs: 150, maxBackoffMs: 400, timeoutMs: 1000 };
const login = { username: 'admin', password: 'redfish' };

describe('Redfish bridge polling, over TLS with a configured CA', () => {
  let nats: TestServer;
  let certs: ReturnType<typeof makeCertificates>;
  let reports: RedfishService;
  let legacy: RedfishService;
  let rt: WorkerRuntime;

  before(async () => {
    nats = await startNats();
    certs = makeCertificates();
    const tls = { key: certs.key, cert: certs.cert };
    // a BMC with TelemetryService but neither SSE nor subscriptions: MetricReports are polled
    reports = await RedfishService.start({
      tls,
      chassis: [node('n1', 1500)],
      features: { sse: false, subscriptions: false },
    });
    // an old BMC: no TelemetryService at all, only Chassis Power and Thermal
    legacy = await RedfishService.start({
      tls,
      chassis: [
        {
          id: 'tray',
          powerW: 640,
          temperatures: [
            { name: 'Inlet', celsius: 24 },
            { name: 'GPU0', celsius: null },
          ],
          fans: [{ name: 'Fan0', rpm: 9100 }],
        },
      ],
      features: { sse: false, subscriptions: false, telemetry: false },
    });
    const endpoints = [
      { id: 'rep', url: reports.url, caFile: certs.caFile, ...login, ...POLL },
      { id: 'old', url: legacy.url, caFile: certs.caFile, auth: 'basic', ...login, ...POLL },
      { id: 'wrong-ca', url: reports.url, caFile: certs.otherCaFile, ...login, ...POLL },
    ];
    ({ rt } = await startBridge(nats.url, endpoints));
  });

  after(async () => {
    await rt?.stop();
    await reports?.close();
    await legacy?.close();
    await nats?.dispose();
    rmSync(certs.dir, { recursive: true, force: true });
  });

  it('polls MetricReports and stores each new ReportSequence once, however often it reads it', async () => {
    reports.emitReport();
    await waitFor('the first report', async () => (await batchesOf(rt, 'rep')).length === 1);
    await waitFor('polls of the unchanged report', async () => (await outcome(rt, 'report-unchanged')) >= 2);
    reports.emitReport();
    await waitFor('the second report', async () => (await batchesOf(rt, 'rep')).length === 2);
    assert.deepEqual(await sequencesOf(rt, 'rep'), [1, 2]);
    assert.ok(
      reports.requests.filter((r) => r === 'GET /redfish/v1/TelemetryService/MetricReports/PowerThermal')
        .length >= 3,
    );
    assert.equal(reports.counts.logins, 1, 'one session serves every poll');
  });

  it('polls Chassis Power and Thermal where there is no TelemetryService, with poll time and units from the schema', async () => {
    await waitFor('a chassis batch', async () => (await batchesOf(rt, 'old')).length >= 1);
    const byMetric = new Map((await batchesOf(rt, 'old'))[0]?.samples.map((s) => [s.pointId, s]));
    const power = byMetric.get('redfish:old:Chassis/tray/Power/PowerControl/0/PowerConsumedWatts');
    assert.deepEqual([power?.doubleValue, power?.unit], [640, 'W']);
    assert.equal(
      power?.clockSource,
      busway.v1.ClockSource.CLOCK_SOURCE_INGEST,
      'Power has no time of its own',
    );
    const inlet = byMetric.get('redfish:old:Chassis/tray/Thermal/Temperatures/0/ReadingCelsius');
    assert.deepEqual([inlet?.doubleValue, inlet?.unit], [24, 'Cel']);
    const fan = byMetric.get('redfish:old:Chassis/tray/Thermal/Fans/0/Reading');
    assert.deepEqual([fan?.doubleValue, fan?.unit], [9100, 'RPM']);
    const missing = byMetric.get('redfish:old:Chassis/tray/Thermal/Temperatures/1/ReadingCelsius');
    assert.equal(missing?.quality, busway.v1.Quality.QUALITY_BAD);
    assert.deepEqual(missing?.flags, ['no-reading']);
    assert.ok(
      (await auditOf(rt, 'old')).some((a) => a.includes('"PowerConsumedWatts":640')),
      'the raw reads are on AUDIT',
    );
    assert.equal(legacy.counts.logins, 0, 'basic auth: no session');
  });

  it('refuses a service whose certificate its CA did not sign, and backs off', async () => {
    await waitFor('failed connections', async () => (await outcome(rt, 'connect-failed')) >= 2, 10_000);
    assert.deepEqual(await samplesOf(rt, 'wrong-ca'), []);
    assert.deepEqual(await deadLetters(rt), []);
  });
});
