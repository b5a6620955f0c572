import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { busway, Long } from '@busway/proto';
import { DecodeError } from '@busway/runtime';
import { IngestSnmpConfigSchema, type TargetConfig } from './config.js';
import {
  decodeTrap,
  NotificationPdu,
  SNMP_TRAP_ADDRESS_OID,
  SNMP_TRAP_OID,
  SYS_UPTIME_OID,
  type NotificationLike,
} from './trap-decode.js';
import { trapOutgoing, type Arrival } from './trap-message.js';
import { SmiType, type RawVarbind } from './varbind.js';

const CURRENT_OID = '1.3.6.1.4.1.99999.1.1.0';
const ON_BATTERY = '1.3.6.1.4.1.318.0.5';
const upTime = (value: number): RawVarbind => ({ oid: SYS_UPTIME_OID, type: SmiType.TimeTicks, value });
const trapId = (value: string): RawVarbind => ({ oid: SNMP_TRAP_OID, type: SmiType.Oid, value });
const v2 = (
  varbinds: unknown,
  from = '10.0.1.20',
  type: number = NotificationPdu.TrapV2,
): NotificationLike => ({
  pdu: { type, varbinds },
  rinfo: { address: from },
});
const arrival: Arrival = { atMs: 1_700_000_000_000, sequence: 1_700_000_000_001, ingestTimeNs: Long.UZERO };

const { targets } = IngestSnmpConfigSchema.parse({
  targets: [
    {
      id: 'pdu-a01',
      host: '10.0.1.20',
      points: [{ name: 'current', oid: CURRENT_OID, scale: 0.1, unit: 'A' }],
    },
    { id: 'ups-1', host: '10.0.1.30', points: [{ name: 'x', oid: '1.3.6.1.2.1.1.1.0' }] },
    { id: 'ups-2', host: '10.0.1.30', points: [{ name: 'x', oid: '1.3.6.1.2.1.1.1.0' }] },
  ],
}) as { targets: TargetConfig[] };

describe('trap decoding', () => {
  it('reads a v2 trap and an inform: uptime, trap OID, its own varbinds', () => {
    const current = { oid: CURRENT_OID, type: SmiType.Gauge32, value: 150 };
    for (const type of [NotificationPdu.TrapV2, NotificationPdu.InformRequest])
      assert.deepEqual(decodeTrap(v2([upTime(777), trapId(ON_BATTERY), current], '10.0.1.20', type)), {
        agent: '10.0.1.20',
        upTime: 777,
        trapOid: ON_BATTERY,
        varbinds: [current],
      });
  });

  it('takes the agent from snmpTrapAddress.0 when a proxy forwarded the trap', () => {
    const origin = { oid: SNMP_TRAP_ADDRESS_OID, type: SmiType.IpAddress, value: '10.0.1.30' };
    const t = decodeTrap(v2([upTime(1), trapId(ON_BATTERY), origin], '10.9.9.9'));
    assert.deepEqual([t.agent, t.varbinds], ['10.0.1.30', []]);
  });

  it('derives the trap OID of a v1 trap as RFC 3584 does', () => {
    const v1 = (pdu: Record<string, unknown>, from = '10.9.9.9'): NotificationLike => ({
      pdu: { type: NotificationPdu.Trap, enterprise: '1.3.6.1.4.1.318', upTime: 5, varbinds: [], ...pdu },
      rinfo: { address: from },
    });
    const linkDown = decodeTrap(v1({ generic: 2, specific: 0, agentAddr: '10.0.1.20' }));
    assert.deepEqual([linkDown.trapOid, linkDown.agent], ['1.3.6.1.6.3.1.1.5.3', '10.0.1.20']);
    const specific = decodeTrap(v1({ generic: 6, specific: 5, agentAddr: '0.0.0.0' }));
    assert.deepEqual([specific.trapOid, specific.agent], [ON_BATTERY, '10.9.9.9']);
    assert.throws(() => decodeTrap(v1({ generic: 9 })), /generic-trap 9/);
    assert.throws(() => decodeTrap(v1({ generic: 6, specific: 'x' })), /specific-trap x/);
  });

  it('rejects what is not a well-formed notification with DecodeError', () => {
    const rejects = (n: NotificationLike, pattern: RegExp) =>
      assert.throws(
        () => decodeTrap(n),
        (e: unknown) => e instanceof DecodeError && pattern.test(e.message),
      );
    rejects(
      v2([trapId(ON_BATTERY)]),
      /starts with sysUpTime\.0 \(TimeTicks\), this one with 1\.3\.6\.1\.6\.3\.1\.1\.4\.1\.0/,
    );
    rejects(v2([upTime(1)]), /second varbind of a v2 trap is snmpTrapOID\.0 \(OID\), not nothing/);
    rejects(
      v2([upTime(1), { ...trapId(ON_BATTERY), type: SmiType.OctetString }]),
      /not 1\.3\.6.* \(OctetString\)/,
    );
    rejects(v2('junk'), /no readable varbind list/);
    rejects(v2([upTime(1), trapId(ON_BATTERY), { oid: 5 }]), /no readable varbind list/);
    rejects(v2([], '10.0.0.1', 162), /PDU type 162 is not a notification/);
  });
});

const samplesOf = (n: NotificationLike) => {
  const out = trapOutgoing(n, targets, arrival);
  assert.equal(out.kind, 'samples');
  return out;
};

describe('trap to samples', () => {
  it('publishes a trap of a configured agent as its target: the trap flagged, varbinds named and scaled', () => {
    const current = { oid: CURRENT_OID, type: SmiType.Gauge32, value: 150 };
    const text = { oid: '1.3.6.1.4.1.99999.2.1.0', type: SmiType.OctetString, value: Buffer.from('breaker') };
    const out = samplesOf(v2([upTime(777), trapId(ON_BATTERY), current, text]));
    assert.ok(out.kind === 'samples');
    assert.equal(out.subject, 'raw.v1.samples.snmp.pdu-a01');
    assert.equal(out.envelope.source, '/snmp/pdu-a01');
    assert.match(out.envelope.id, /^snmp-trap:10\.0\.1\.20:777:1\.3\.6\.1\.4\.1\.318\.0\.5:[0-9a-f]{12}$/);
    const [trap, amps, note] = out.batch.samples ?? [];
    assert.deepEqual(
      [trap?.pointId, trap?.stringValue, trap?.flags, trap?.source?.address],
      ['snmp:pdu-a01:trap', ON_BATTERY, ['trap'], `10.0.1.20/${ON_BATTERY}`],
    );
    assert.equal(trap?.sequence?.toString(), String(arrival.sequence));
    assert.equal(trap?.clockSource, busway.v1.ClockSource.CLOCK_SOURCE_INGEST);
    assert.deepEqual([amps?.pointId, amps?.doubleValue, amps?.unit], ['snmp:pdu-a01:current', 15, 'A']);
    assert.deepEqual([note?.pointId, note?.stringValue], ['snmp:pdu-a01:1.3.6.1.4.1.99999.2.1.0', 'breaker']);
  });

  it('keeps the agent address as the source when no single target has it as host', () => {
    for (const from of ['10.0.1.30', '192.168.7.7']) {
      const out = samplesOf(v2([upTime(1), trapId(ON_BATTERY)], from));
      assert.ok(out.kind === 'samples');
      assert.equal(out.subject, `raw.v1.samples.snmp.${from.replaceAll('.', '-')}`);
      assert.equal(out.batch.samples?.[0]?.pointId, `snmp:${from}:trap`);
    }
  });

  it('marks a varbind it cannot read QUALITY_BAD instead of dropping the trap', () => {
    const opaque = { oid: '1.3.6.1.4.1.99999.3.0', type: SmiType.Opaque, value: Buffer.from([1]) };
    const gone = { oid: CURRENT_OID, type: SmiType.NoSuchInstance, value: null };
    const out = samplesOf(v2([upTime(1), trapId(ON_BATTERY), opaque, gone]));
    assert.ok(out.kind === 'samples');
    const [, bad, missing] = out.batch.samples ?? [];
    assert.deepEqual([bad?.quality, bad?.flags], [busway.v1.Quality.QUALITY_BAD, ['decode-error']]);
    assert.deepEqual([missing?.pointId, missing?.flags], ['snmp:pdu-a01:current', ['no-such-instance']]);
  });

  it('gives an inform sent again the same message id, and another trap another one', () => {
    const vbs = (value: number) => [
      upTime(9),
      trapId(ON_BATTERY),
      { oid: CURRENT_OID, type: SmiType.Gauge32, value },
    ];
    const id = (n: NotificationLike) => {
      const out = trapOutgoing(n, targets, arrival);
      return out.kind === 'samples' ? out.envelope.id : '';
    };
    assert.equal(id(v2(vbs(1))), id(v2(vbs(1), '10.0.1.20', NotificationPdu.InformRequest)));
    assert.notEqual(id(v2(vbs(1))), id(v2(vbs(2))));
  });

  it('dead-letters a notification that breaks the trap form, with what came', () => {
    const out = trapOutgoing(v2([upTime(1)], '10.0.1.20'), targets, arrival);
    assert.ok(out.kind === 'dead-letter');
    assert.equal(out.letter.reason.code, 'decode-error');
    assert.equal(out.letter.origin, 'snmp-trap:10.0.1.20');
    const body = JSON.parse(new TextDecoder().decode(out.letter.payload)) as Record<string, unknown>;
    assert.equal(body.from, '10.0.1.20');
    assert.match(String(body.error), /snmpTrapOID/);
  });

  it('turns any notification into samples or a dead letter, never an exception', () => {
    const varbind = fc.record({
      oid: fc.oneof(fc.constantFrom(SYS_UPTIME_OID, SNMP_TRAP_OID, CURRENT_OID), fc.string()),
      type: fc.oneof(fc.constantFrom(...Object.values(SmiType)), fc.integer({ min: 0, max: 255 })),
      value: fc.oneof(fc.anything(), fc.nat(), fc.constantFrom(ON_BATTERY), fc.uint8Array({ maxLength: 9 })),
    });
    const pdu = fc.record({
      type: fc.oneof(fc.constantFrom(...Object.values(NotificationPdu)), fc.integer()),
      varbinds: fc.oneof(fc.array(varbind, { maxLength: 6 }), fc.anything()),
      enterprise: fc.oneof(fc.constant('1.3.6.1.4.1.318'), fc.anything()),
      agentAddr: fc.oneof(fc.constant('10.0.1.20'), fc.anything()),
      generic: fc.oneof(fc.integer({ min: -1, max: 7 }), fc.anything()),
      specific: fc.oneof(fc.integer(), fc.anything()),
      upTime: fc.oneof(fc.nat(), fc.anything()),
    });
    fc.assert(
      fc.property(pdu, fc.constantFrom('10.0.1.20', '10.0.1.30', '127.0.0.1'), (p, from) => {
        const out = trapOutgoing({ pdu: p, rinfo: { address: from } }, targets, arrival);
        if (out.kind === 'samples') busway.v1.SampleBatch.encode(out.batch).finish();
        else assert.ok(out.letter.payload.length > 0);
      }),
    );
  });
});
