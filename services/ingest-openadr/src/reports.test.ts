import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nowNs } from '@busway/proto';
import { openAdrSpec } from '@busway/simulator';
import { decodeEvent, type DecodedEvent } from './decode.js';
import { planReports, reportBody, valueOf } from './reports.js';

const event = (reportDescriptors: unknown, intervals = 3, duration = 'PT15M'): DecodedEvent => {
  const r = decodeEvent(
    {
      id: 'event-1',
      programID: 'program-1',
      modificationDateTime: '2026-05-01T10:00:00Z',
      intervalPeriod: { start: '2026-05-01T12:00:00Z', duration },
      reportDescriptors,
      intervals: Array.from({ length: intervals }, (_, id) => ({
        id,
        payloads: [{ type: 'SIMPLE', values: [1] }],
      })),
    },
    { vtnId: 'vtn', vtnUrl: 'http://vtn', ingestTimeNs: nowNs() },
  );
  assert.ok(r.ok);
  return r.event;
};
const at = (iso: string) => Date.parse(iso);

describe('planning usage reports', () => {
  it('sends one report of every interval after the last one ends, by default', () => {
    const plans = planReports(event([{ payloadType: 'USAGE' }]), 5000);
    assert.equal(plans.length, 1);
    assert.equal(plans[0]?.reportName, 'busway:event-1:USAGE:0-2');
    assert.equal(plans[0]?.periods.length, 3);
    assert.equal(plans[0]?.dueMs, at('2026-05-01T12:45:00Z') + 5000);
  });

  it('sends one report per interval with frequency 1, from startInterval, at most repeat of them', () => {
    const plans = planReports(
      event([{ payloadType: 'DEMAND', frequency: 1, repeat: -1, startInterval: 1 }]),
      0,
    );
    assert.deepEqual(
      plans.map((p) => [p.reportName, p.dueMs]),
      [
        ['busway:event-1:DEMAND:1-1', at('2026-05-01T12:30:00Z')],
        ['busway:event-1:DEMAND:2-2', at('2026-05-01T12:45:00Z')],
      ],
    );
    assert.equal(planReports(event([{ payloadType: 'USAGE', frequency: 1, repeat: 2 }]), 0).length, 2);
  });

  it('plans nothing for report types it cannot measure or for open-ended intervals', () => {
    assert.deepEqual(planReports(event([{ payloadType: 'STORAGE_CHARGE_LEVEL' }]), 0), []);
    assert.deepEqual(planReports(event([{ payloadType: 'USAGE' }], 1, 'P9999Y'), 0), []);
  });

  it('writes a report the 3.1.0 reportRequest schema accepts, in the units asked for', () => {
    const [plan] = planReports(
      event([{ payloadType: 'USAGE', units: 'KWH', readingType: 'DIRECT_READ' }]),
      0,
    );
    assert.ok(plan);
    const power = { meanW: 300_000, energyWh: 75_000, points: 2, readings: 10 };
    assert.equal(valueOf(power, 'USAGE', 'KWH'), 75);
    assert.equal(valueOf(power, 'USAGE', 'WH'), 75_000);
    assert.equal(valueOf(power, 'DEMAND', 'KW'), 300);
    assert.equal(valueOf(power, 'USAGE', 'THERMS'), undefined);
    const body = reportBody(plan, [75, 74, 73], 'busway-ven', 'AGGREGATED_REPORT', 'KWH');
    assert.equal(openAdrSpec().check('reportRequest', body), undefined);
    assert.deepEqual(
      body.resources[0]?.intervals.map((i) => [i.id, i.intervalPeriod.duration, i.payloads[0]?.values[0]]),
      [
        [0, 'PT900S', 75],
        [1, 'PT900S', 74],
        [2, 'PT900S', 73],
      ],
    );
  });
});
