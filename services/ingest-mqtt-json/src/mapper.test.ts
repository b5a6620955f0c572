import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { timeNsFromMs } from '@busway/proto';
import { ContractViolation, DecodeError } from '@busway/runtime';
import { RuleMapper, nsFromRfc3339 } from './mapper.js';
import { bleGateway, CHIRPSTACK_V4 } from './presets.js';
import { MappingRuleSchema } from './rules.js';
import { UPLINK, UPLINK_TOPIC } from './test-fixtures.js';

const INGEST = timeNsFromMs(1_800_000_000_000);
const bytes = (o: unknown) => Buffer.from(JSON.stringify(o));

describe('MQTT JSON mapping rules', () => {
  it('maps a ChirpStack v4 uplink: every decoded field, RSSI and SNR, nanosecond time, fCnt as the sequence', () => {
    const m = new RuleMapper(CHIRPSTACK_V4);
    assert.equal(m.filter, 'application/+/device/+/event/up');
    const [out] = m.map(UPLINK_TOPIC, m.match(UPLINK_TOPIC) ?? {}, bytes(UPLINK), INGEST);
    const by = new Map(out?.samples.map((s) => [s.pointId, s]));
    assert.equal(out?.source, 'lorawan/0101010101010101');
    assert.equal(by.get('mqtt:lorawan/0101010101010101:temperature')?.doubleValue, 22.5);
    assert.equal(by.get('mqtt:lorawan/0101010101010101:leak')?.boolValue, false);
    assert.equal(by.get('mqtt:lorawan/0101010101010101:firmware')?.stringValue, '1.2.0');
    assert.equal(by.get('mqtt:lorawan/0101010101010101:rssi')?.unit, 'dB[mW]');
    assert.equal(by.get('mqtt:lorawan/0101010101010101:snr')?.doubleValue, 10.5);
    const t = by.get('mqtt:lorawan/0101010101010101:temperature');
    assert.equal(t?.eventTimeNs?.toString(), nsFromRfc3339(UPLINK.time)?.toString());
    assert.equal(t?.eventTimeNs?.toString().slice(-9), '123456789', 'nanoseconds kept');
    assert.equal(t?.sequence?.toString(), '4');
  });

  it('maps a BLE gateway report: one source per tag, its RSSI and the zone of the reader that saw it', () => {
    const m = new RuleMapper(bleGateway({ 'gw-ac233f': 'calibration-lab' }));
    const topic = 'ble/gw-ac233f/report';
    const report = [
      { mac: 'C3000012AB01', rssi: -61, timestamp: '2026-11-23T10:00:00Z' },
      { mac: 'C3000012AB02', rssi: -75, timestamp: '2026-11-23T10:00:00Z' },
    ];
    const out = m.map(topic, m.match(topic) ?? {}, bytes(report), INGEST);
    assert.deepEqual(
      out.map((o) => o.source),
      ['ble/C3000012AB01', 'ble/C3000012AB02'],
    );
    const zone = out[0]?.samples.find((s) => s.pointId === 'mqtt:ble/C3000012AB01:zone');
    assert.equal(zone?.stringValue, 'calibration-lab');
    assert.equal(out[1]?.samples.find((s) => s.pointId?.endsWith(':rssi'))?.doubleValue, -75);
  });

  it('rejects what does not fit, with the reason: bad JSON, a missing value, a bad time', () => {
    const rule = MappingRuleSchema.parse({
      name: 'pdu',
      topic: 'site/{rack}/pdu',
      source: 'pdu/{rack}',
      time: 'ts',
      samples: [{ name: 'power', value: 'kw', unit: 'kW' }],
    });
    const m = new RuleMapper(rule);
    const c = m.match('site/r1/pdu') ?? {};
    assert.throws(() => m.map('site/r1/pdu', c, Buffer.from('{nope'), INGEST), DecodeError);
    assert.throws(
      () => m.map('site/r1/pdu', c, bytes({ ts: 1_800_000_000 }), INGEST),
      /'kw' on site\/r1\/pdu/,
    );
    assert.throws(() => m.map('site/r1/pdu', c, bytes({ ts: 'yesterday', kw: 1 }), INGEST), /not RFC 3339/);
    const [ok] = m.map('site/r1/pdu', c, bytes({ ts: 1_800_000_000, kw: 7.5 }), INGEST);
    assert.equal(
      ok?.samples[0]?.eventTimeNs?.toString(),
      timeNsFromMs(1_800_000_000_000).toString(),
      'epoch seconds',
    );
    assert.equal(m.match('site/r1/pdu/extra'), undefined);
  });

  it('never fails on arbitrary payloads with anything but a decode error or a contract violation', () => {
    const m = new RuleMapper(CHIRPSTACK_V4);
    const c = m.match(UPLINK_TOPIC) ?? {};
    fc.assert(
      fc.property(
        fc.oneof(
          fc.json(),
          fc.string(),
          fc.jsonValue().map((v) => JSON.stringify({ ...UPLINK, object: v })),
        ),
        (p) => {
          try {
            m.map(UPLINK_TOPIC, c, Buffer.from(p), INGEST);
          } catch (err) {
            assert.ok(err instanceof DecodeError || err instanceof ContractViolation, String(err));
          }
        },
      ),
    );
  });
});
