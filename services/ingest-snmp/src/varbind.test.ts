import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import snmp from 'net-snmp';
import { DecodeError } from '@busway/runtime';
import {
  readVarbind,
  scaled,
  SmiType,
  textOf,
  type Decoding,
  type PointValue,
  type RawVarbind,
} from './varbind.js';

const OID = '1.3.6.1.2.1.33.1.2.7.0';
const vb = (type: number, value: unknown): RawVarbind => ({ oid: OID, type, value });
const as = (d: Partial<Decoding> = {}): Decoding => ({ scale: 1, ...d });

/** The value of a reading that must have one. */
function valueOf(v: RawVarbind, d: Decoding = as()): PointValue {
  const r = readVarbind(v, d);
  assert.ok(r.ok, `expected a value, got ${JSON.stringify(r)}`);
  return r.value;
}

const plain = (v: PointValue) => (v.kind === 'int' ? v.value.toString() : v.value);

/** Counter64 as an agent encodes it: minimal big-endian content octets, a leading zero when the top bit is set. */
function berUint64(v: bigint, padded: boolean): Buffer {
  let hex = v.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  const bytes = Buffer.from(hex, 'hex');
  return padded || (bytes[0] ?? 0) >= 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes;
}

const rejects = (v: RawVarbind, d: Decoding, pattern: RegExp) =>
  assert.throws(
    () => readVarbind(v, d),
    (err: unknown) => err instanceof DecodeError && pattern.test(err.message),
  );

describe('varbind decoding', () => {
  it('uses the SMI tags net-snmp uses', () => {
    const o = snmp.ObjectType;
    assert.deepEqual(
      [o.Integer, o.OctetString, o.OID, o.IpAddress, o.Counter32, o.Gauge32, o.TimeTicks, o.Counter64],
      [
        SmiType.Integer,
        SmiType.OctetString,
        SmiType.Oid,
        SmiType.IpAddress,
        SmiType.Counter32,
        SmiType.Gauge32,
        SmiType.TimeTicks,
        SmiType.Counter64,
      ],
    );
    assert.deepEqual(
      [o.NoSuchObject, o.NoSuchInstance, o.EndOfMibView, o.Opaque, o.Null],
      [SmiType.NoSuchObject, SmiType.NoSuchInstance, SmiType.EndOfMibView, SmiType.Opaque, SmiType.Null],
    );
  });

  it('reads numbers with the MIB scaling: tenths of amps, tenths of volts, plain integers', () => {
    assert.deepEqual(valueOf(vb(SmiType.Gauge32, 123), as({ scale: 0.1 })), { kind: 'double', value: 12.3 });
    assert.deepEqual(valueOf(vb(SmiType.Integer, 2301), as({ scale: 0.1 })), {
      kind: 'double',
      value: 230.1,
    });
    assert.deepEqual(valueOf(vb(SmiType.Integer, 7), as({ scale: 2.5 })), { kind: 'double', value: 17.5 });
    assert.equal(plain(valueOf(vb(SmiType.Integer, -5))), '-5');
    assert.equal(plain(valueOf(vb(SmiType.TimeTicks, 12_345))), '12345');
    assert.equal(plain(valueOf(vb(SmiType.Counter32, 4_294_967_295))), '4294967295');
    assert.equal(scaled(2301, 0.1), 230.1);
    assert.equal(scaled(1, 0.01), 0.01);
  });

  it('reads a Counter64 from its bytes, exactly while it fits a sint64', () => {
    const big = valueOf(vb(SmiType.Counter64, Buffer.from('0100000005', 'hex')));
    assert.equal(plain(big), '4294967301');
    const top = valueOf(vb(SmiType.Counter64, Buffer.from('00ffffffffffffff01', 'hex')));
    assert.deepEqual(top, { kind: 'double', value: Number(2n ** 64n - 255n) });
    // net-snmp's agent sends an 8-byte buffer without the sign octet: still unsigned
    const unsignedTop = valueOf(vb(SmiType.Counter64, Buffer.from('ffffffffffffff01', 'hex')));
    assert.deepEqual(unsignedTop, top);
    assert.deepEqual(valueOf(vb(SmiType.Counter64, Buffer.from('64', 'hex')), as({ scale: 0.1 })), {
      kind: 'double',
      value: 10,
    });
    rejects(vb(SmiType.Counter64, Buffer.alloc(10, 1)), as(), /Counter64 of 10 bytes/);
    rejects(vb(SmiType.Counter64, Buffer.from('01ffffffffffffffff', 'hex')), as(), /above 2\^64-1/);
    rejects(vb(SmiType.Counter64, 5), as(), /not bytes/);
  });

  it('reads text: OctetString as UTF-8 (binary as hex), IpAddress and OID as they are', () => {
    assert.deepEqual(valueOf(vb(SmiType.OctetString, Buffer.from('Smart-UPS 3000\0\0'))), {
      kind: 'string',
      value: 'Smart-UPS 3000',
    });
    assert.equal(textOf(Buffer.from([0x00, 0x1b, 0x21, 0xff, 0x10, 0x02])), '00:1b:21:ff:10:02');
    assert.equal(plain(valueOf(vb(SmiType.IpAddress, '10.0.0.5'))), '10.0.0.5');
    assert.equal(plain(valueOf(vb(SmiType.Oid, '1.3.6.1.4.1.318'))), '1.3.6.1.4.1.318');
    assert.deepEqual(valueOf(vb(SmiType.Integer, 3), as({ type: 'string', scale: 0.1 })), {
      kind: 'string',
      value: '3',
    });
  });

  it('reads a number a MIB reports as text when the point is a gauge', () => {
    assert.deepEqual(valueOf(vb(SmiType.OctetString, Buffer.from(' 23.5 ')), as({ type: 'gauge' })), {
      kind: 'double',
      value: 23.5,
    });
    assert.deepEqual(
      valueOf(vb(SmiType.OctetString, Buffer.from('2301')), as({ type: 'gauge', scale: 0.1 })),
      {
        kind: 'double',
        value: 230.1,
      },
    );
  });

  it('turns the SNMPv2 exceptions into readings without a value', () => {
    assert.deepEqual(readVarbind(vb(SmiType.NoSuchObject, null), as()), {
      ok: false,
      flag: 'no-such-object',
    });
    assert.deepEqual(readVarbind(vb(SmiType.NoSuchInstance, null), as({ type: 'gauge' })), {
      ok: false,
      flag: 'no-such-instance',
    });
    assert.deepEqual(readVarbind(vb(SmiType.EndOfMibView, null), as()), {
      ok: false,
      flag: 'end-of-mib-view',
    });
  });

  it('throws DecodeError on a varbind that is not what the point says, or not what its type says', () => {
    rejects(
      vb(SmiType.OctetString, Buffer.from('onBattery')),
      as({ type: 'gauge' }),
      /'onBattery' is not a number/,
    );
    rejects(vb(SmiType.OctetString, Buffer.from('12')), as({ type: 'counter' }), /is not a counter/);
    rejects(vb(SmiType.Integer, -1), as({ type: 'counter' }), /a counter cannot be negative/);
    rejects(vb(SmiType.Opaque, Buffer.from('9f780441bc0000', 'hex')), as(), /Opaque is not a value type/);
    rejects(vb(SmiType.Null, null), as(), /Null is not a value type/);
    rejects(vb(SmiType.Integer, '12'), as(), /Integer 12 is not an integer/);
    rejects(vb(SmiType.Integer, 2 ** 31), as(), /not an integer in -2147483648\.\.2147483647/);
    rejects(vb(SmiType.Gauge32, -1), as(), /Gauge32 -1/);
    rejects(vb(SmiType.Gauge32, 4_294_967_295), as({ scale: 1e308 }), /is not finite/);
    rejects(vb(SmiType.OctetString, Buffer.from('1e400')), as({ type: 'gauge' }), /is not finite/);
    rejects(vb(99, 1), as(), /type 99 is not a value type/);
  });
});

const INTEGER_TYPES: [number, number, number][] = [
  [SmiType.Integer, -(2 ** 31), 2 ** 31 - 1],
  [SmiType.Gauge32, 0, 2 ** 32 - 1],
  [SmiType.Counter32, 0, 2 ** 32 - 1],
  [SmiType.TimeTicks, 0, 2 ** 32 - 1],
];
const integerVarbind = fc
  .constantFrom(...INTEGER_TYPES)
  .chain(([type, min, max]) => fc.integer({ min, max }).map((value) => vb(type, value)));
const scale = fc.oneof(
  fc.constantFrom(1, 0.1, 0.01, 0.001, 10, 2.5, -1),
  fc.double({ min: -1e6, max: 1e6, noNaN: true }).filter((s) => s !== 0),
);

describe('varbind decoding, properties', () => {
  it('reads every integer type within its range, scaled within rounding, exact at scale 1', () => {
    fc.assert(
      fc.property(integerVarbind, scale, (v, s) => {
        const value = valueOf(v, as({ scale: s }));
        const raw = v.value as number;
        if (s === 1) return assert.deepEqual(value.kind === 'int' && value.value.toNumber(), raw);
        assert.equal(value.kind, 'double');
        const got = value.value as number;
        assert.ok(Math.abs(got - raw * s) <= Math.abs(raw * s) * 1e-15, `${raw} × ${s} = ${got}`);
      }),
    );
  });

  it('reads every Counter64 exactly, in either BER form', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.boolean(), (n, padded) => {
        const value = valueOf(vb(SmiType.Counter64, berUint64(n, padded)));
        if (n < 2n ** 63n)
          assert.deepEqual({ kind: value.kind, text: plain(value) }, { kind: 'int', text: `${n}` });
        else assert.deepEqual(value, { kind: 'double', value: Number(n) });
      }),
    );
  });

  it('gives back any printable text an OctetString holds', () => {
    const printable = fc
      .string({ unit: 'grapheme' })
      // eslint-disable-next-line no-control-regex
      .filter((s) => !/[\x00-\x1f\x7f]/.test(s));
    fc.assert(
      fc.property(printable, (s) =>
        assert.deepEqual(valueOf(vb(SmiType.OctetString, Buffer.from(s))), { kind: 'string', value: s }),
      ),
    );
  });

  it('reads any finite number a MIB writes as text', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (d) => {
        const value = valueOf(vb(SmiType.OctetString, Buffer.from(String(d))), as({ type: 'gauge' }));
        assert.ok(value.kind === 'double' && value.value === d, `${d} read as ${JSON.stringify(value)}`);
      }),
    );
  });

  it('never throws anything but DecodeError, whatever the varbind', () => {
    const type = fc.oneof(fc.constantFrom(...Object.values(SmiType)), fc.integer({ min: 0, max: 255 }));
    const value = fc.oneof(fc.anything(), fc.integer(), fc.uint8Array({ maxLength: 12 }), fc.string());
    const pointType = fc.constantFrom(undefined, 'gauge', 'counter', 'string' as const);
    fc.assert(
      fc.property(type, value, pointType, scale, (t, v, p, s) => {
        try {
          const r = readVarbind(vb(t, v), { type: p, scale: s });
          if (r.ok && r.value.kind === 'double') assert.ok(Number.isFinite(r.value.value));
        } catch (err) {
          assert.ok(err instanceof DecodeError, `${String(err)}`);
        }
      }),
    );
  });
});
