import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { busway, timeNsFromMs } from '@busway/proto';
import type { WorkerRuntime } from '@busway/runtime';
import type { Vtn } from '@busway/simulator';
import { startNats, waitFor, type TestServer } from '@busway/testkit';
import { drProgram, openJs, outcome, startVen, startVtn, VEN_CLIENT, type Js } from './test-fixtures.js';

const ROW1 = 'norm.v1.samples.ai1.h1.r1.plant-r1';
const ROW2 = 'norm.v1.samples.ai1.h1.r2.plant-r2';

/** A normalized power sample of an asset, as the normalizer writes it to NORM. */
function sample(
  row: string,
  asset: string,
  metric: string,
  value: number,
  tMs: number,
  quality = busway.v1.Quality.QUALITY_GOOD,
) {
  return {
    pointId: `sparkplug:ai1-h1/row-${row}-gw/${asset}:Power/Active`,
    path: { site: 'ai1', hall: 'h1', row, rack: `plant-${row}`, assetClass: asset.split('-')[0], asset },
    metric,
    doubleValue: value,
    unit: metric === 'power.active' ? 'W' : 'Cel',
    eventTimeNs: timeNsFromMs(tMs),
    quality,
  };
}

describe('OpenADR usage reports from the facility power', () => {
  let nats: TestServer;
  let vtn: Vtn;
  let ven: WorkerRuntime;
  let reader: Js & { nc: { close(): Promise<void> } };
  const env = {
    BUSWAY_REPORTS: 'true',
    BUSWAY_METER_SUBJECTS: `${ROW1},${ROW2}`,
    BUSWAY_METER_ASSETS: 'busway-r1,busway-r2',
    BUSWAY_REPORT_DELAY_MS: '300',
  };

  before(async () => {
    nats = await startNats();
    reader = await openJs(nats.url);
    vtn = await startVtn();
    ven = await startVen(nats, vtn, env);
  });

  after(async () => {
    await ven?.stop();
    await reader?.nc.close();
    await vtn?.close();
    await nats?.dispose();
  });

  it('posts USAGE (kWh) and DEMAND (kW) of the metered busways for the event interval, once', async () => {
    const t0 = Date.now();
    const startMs = t0 + 1500;
    const publish = async (subject: string, samples: ReturnType<typeof sample>[]) =>
      reader.js.publish(subject, busway.v1.SampleBatch.encode({ samples }).finish());
    await publish(ROW1, [
      sample('r1', 'busway-r1', 'power.active', 120_000, t0),
      // bad quality: not a reading
      sample('r1', 'busway-r1', 'power.active', 999_999, startMs + 500, busway.v1.Quality.QUALITY_BAD),
      // not a metered asset, not the metered metric
      sample('r1', 'pdu-r1-01', 'power.active', 50_000, t0),
      sample('r1', 'busway-r1', 'temperature.air.inlet', 30, t0),
    ]);
    await publish(ROW2, [
      sample('r2', 'busway-r2', 'power.active', 80_000, t0),
      sample('r2', 'busway-r2', 'power.active', 100_000, startMs + 1000),
    ]);
    const program = drProgram(vtn);
    const event = vtn.createEvent({
      programID: program.id,
      intervalPeriod: { start: new Date(startMs).toISOString(), duration: 'PT2S' },
      intervals: [{ id: 0, payloads: [{ type: 'IMPORT_CAPACITY_LIMIT', values: [200] }] }],
      reportDescriptors: [
        { payloadType: 'USAGE', units: 'KWH', readingType: 'DIRECT_READ' },
        { payloadType: 'DEMAND', units: 'KW' },
      ],
    });

    await waitFor('two reports', async () => vtn.list('reports').length === 2, 15_000, 50);
    const reports = vtn.list('reports') as unknown as {
      eventID: string;
      clientID: string;
      clientName: string;
      reportName: string;
      payloadDescriptors: { payloadType: string; units: string }[];
      resources: {
        resourceName: string;
        intervals: {
          id: number;
          intervalPeriod: { start: string; duration: string };
          payloads: { type: string; values: number[] }[];
        }[];
      }[];
    }[];
    const byType = new Map(reports.map((r) => [r.payloadDescriptors[0]?.payloadType, r]));
    const usage = byType.get('USAGE');
    const demand = byType.get('DEMAND');
    assert.ok(usage && demand);
    // busway-r1 holds 120 kW; busway-r2 80 kW for the first second, 100 kW for the second: 210 kW mean
    const usageKwh = usage.resources[0]?.intervals[0]?.payloads[0]?.values[0] ?? NaN;
    assert.ok(Math.abs(usageKwh - (210 * 2) / 3600) < 1e-9, `USAGE ${usageKwh} kWh`);
    assert.ok(Math.abs((demand.resources[0]?.intervals[0]?.payloads[0]?.values[0] ?? NaN) - 210) < 1e-9);
    assert.equal(usage.payloadDescriptors[0]?.units, 'KWH');
    assert.equal(usage.eventID, event.id);
    assert.equal(usage.clientID, VEN_CLIENT.clientId);
    assert.equal(usage.clientName, 'busway-ven');
    assert.equal(usage.resources[0]?.resourceName, 'AGGREGATED_REPORT');
    assert.equal(usage.resources[0]?.intervals[0]?.intervalPeriod.start, new Date(startMs).toISOString());
    assert.equal(usage.resources[0]?.intervals[0]?.intervalPeriod.duration, 'PT2S');
    assert.equal(vtn.invalidResponses.length, 0);

    // a restarted VEN remembers what it reported
    await ven.stop();
    ven = await startVen(nats, vtn, env);
    await waitFor('polled twice', async () => (await outcome(ven, 'poll')) >= 2, 10_000, 20);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(vtn.list('reports').length, 2, 'no report twice');
    assert.equal(await outcome(ven, 'report-posted'), 0);
  });
});
