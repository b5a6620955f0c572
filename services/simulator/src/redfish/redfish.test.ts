import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig, createLogger } from '@busway/runtime';
import { SimulatorConfigSchema } from '../config.js';
import { PlantSim, TICK_MS } from '../plant-sim.js';
import { parseEventFilter } from './filter.js';
import { formatRedfishTime } from './model.js';
import { RackBmcs } from './rack-bmcs.js';

describe('simulated Redfish service', () => {
  it('understands the $filter forms clients send and refuses others', () => {
    const report = {
      formatType: 'MetricReport' as const,
      reportDefinition: '/redfish/v1/TelemetryService/MetricReportDefinitions/A',
    };
    assert.equal(parseEventFilter('EventFormatType eq MetricReport')(report), true);
    assert.equal(parseEventFilter("EventFormatType eq 'Event'")(report), false);
    const one = parseEventFilter(
      "MetricReportDefinition eq '/redfish/v1/TelemetryService/MetricReportDefinitions/B' or MetricReportDefinition eq '/redfish/v1/TelemetryService/MetricReportDefinitions/A/'",
    );
    assert.equal(one(report), true);
    assert.throws(() => parseEventFilter('RegistryPrefix eq Base'), /unsupported \$filter/);
  });

  it('writes timestamps in the offset and with the fraction digits its quirks ask for', () => {
    const ns = BigInt(Date.UTC(2024, 0, 2, 3, 4, 5)) * 1_000_000n + 123_456_789n;
    assert.equal(
      formatRedfishTime(ns, { timestampOffsetMin: 0, fractionDigits: 9, offsetWithoutColon: false }),
      '2024-01-02T03:04:05.123456789Z',
    );
    assert.equal(
      formatRedfishTime(ns, { timestampOffsetMin: -300, fractionDigits: 3, offsetWithoutColon: false }),
      '2024-01-01T22:04:05.123-05:00',
    );
    assert.equal(
      formatRedfishTime(ns, { timestampOffsetMin: 90, fractionDigits: 0, offsetWithoutColon: true }),
      '2024-01-02T04:34:05+0130',
    );
  });

  it('serves each rack node power and GPU temperatures that follow the plant, one report per thermal tick', async () => {
    const config = loadConfig(SimulatorConfigSchema, {
      env: {
        BUSWAY_ROWS: '1',
        BUSWAY_RACKS_PER_ROW: '1',
        BUSWAY_NODES_PER_RACK: '2',
        BUSWAY_GPUS_PER_NODE: '2',
        BUSWAY_REDFISH_PORT: '0',
      },
    });
    const start = 1_700_000_000_000;
    const sim = new PlantSim(config, start);
    // port 0 on every rack: the OS picks free ones
    const bmcs = await RackBmcs.start(
      sim.plant,
      { ...config, redfishPort: 0 },
      createLogger('test', 'silent'),
    );
    try {
      const [service] = bmcs.services.values();
      assert.ok(service);
      const lastKw = new Map<string, number>();
      for (let t = start + TICK_MS; t <= start + 30_000; t += TICK_MS) {
        const readings = sim.advanceTo(t).readings;
        for (const r of readings) if (r.name === 'Power/Input') lastKw.set(r.device.id, r.value);
        bmcs.observe(readings, config.thermalIntervalMs);
      }
      const report = service.latestReport('NodePowerThermal') as {
        ReportSequence: string;
        MetricValues: unknown[];
      };
      assert.equal(report.ReportSequence, String(30_000 / config.thermalIntervalMs));
      assert.equal(report.MetricValues.length, 2 * (1 + 2));
      const chassis = [...service.chassis.values()];
      assert.deepEqual(
        chassis.map((c) => c.id),
        ['node-r1-01-1', 'node-r1-01-2'],
      );
      for (const c of chassis) {
        assert.equal(
          c.powerW,
          Math.round((lastKw.get(c.id) ?? 0) * 1000),
          'the node power the plant published',
        );
        // above coolant supply (30 °C) + idle rise (8 K); below it + full-load rise (45 K) + a supply spike
        for (const t of c.temperatures)
          assert.ok((t.celsius ?? 0) > 37 && (t.celsius ?? 0) < 100, `${t.celsius} °C`);
      }
    } finally {
      await bmcs.close();
    }
  });
});
