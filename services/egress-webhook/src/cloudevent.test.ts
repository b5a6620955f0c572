import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CloudEvent } from 'cloudevents';
import { busway, EventTypes, Long } from '@busway/proto';
import { DecodeError, fabricHeaders, Hdr } from '@busway/runtime';
import { bodyOf, cloudEventOf } from './cloudevent.js';
import { chunksOf } from './delivery.js';
import type { EndpointConfig } from './config.js';

const tok = fc.stringMatching(/^[a-z0-9-]{1,12}$/);
const sampleArb = fc.record({
  pointId: fc.string({ maxLength: 30 }),
  path: fc.record({ site: tok, hall: tok, row: tok, rack: tok, assetClass: tok, asset: tok }),
  metric: fc.stringMatching(/^[a-z]{1,8}(\.[a-z]{1,8}){0,3}$/),
  doubleValue: fc.double({ noNaN: true, noDefaultInfinity: true }),
  unit: fc.constantFrom('Cel', 'W', 'kW.h', 'L/min', ''),
  eventTimeNs: fc.bigInt({ min: 0n, max: 2n ** 63n }).map((b) => Long.fromString(b.toString(), true)),
  quality: fc.integer({ min: 0, max: 4 }),
  flags: fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }),
});

describe('fabric message as a CloudEvent', () => {
  it('turns any SampleBatch into JSON data that encodes back to the same protobuf (-0 aside: JSON has none)', () => {
    fc.assert(
      fc.property(fc.array(sampleArb, { minLength: 1, maxLength: 4 }), tok, (samples, id) => {
        const data = busway.v1.SampleBatch.encode({ samples }).finish();
        const headers = fabricHeaders({ type: EventTypes.SampleBatch, source: '/busway/fanout', id });
        const ce = cloudEventOf({ subject: 'uns.v1.a.b.c.d.e.f.g', data, headers, seq: 9 }, '/busway');
        assert.equal(ce.id, id);
        assert.equal(ce.type, EventTypes.SampleBatch);
        assert.equal(ce.subject, 'uns.v1.a.b.c.d.e.f.g');
        const back = busway.v1.SampleBatch.encode(
          busway.v1.SampleBatch.fromObject(JSON.parse(JSON.stringify(ce.data)) as Record<string, unknown>),
        ).finish();
        // equal up to what JSON cannot say: it has no negative zero
        const json = (d: Uint8Array) => JSON.stringify(busway.v1.SampleBatch.decode(d).toJSON());
        assert.equal(json(back), json(data));
        if (!samples.some((s) => Object.is(s.doubleValue, -0)))
          assert.deepEqual(Buffer.from(back), Buffer.from(data));
        // the CloudEvents SDK accepts it as a valid v1.0 event
        assert.ok(new CloudEvent(JSON.parse(bodyOf([ce], false).body) as Record<string, unknown>).validate());
      }),
      { numRuns: 100 },
    );
  });

  it('carries a payload of a type it does not decode unchanged in data_base64', () => {
    fc.assert(
      // Object members' names too: a type is input, never a key into Object's prototype
      fc.property(
        fc.uint8Array({ maxLength: 200 }),
        fc.constantFrom('vendor.Custom', 'constructor', 'toString'),
        (data, type) => {
          const headers = fabricHeaders({
            type,
            source: '/x',
            id: 'c-1',
            contentType: 'application/x-vendor',
          });
          const ce = cloudEventOf({ subject: 'control.v1.result.a', data, headers, seq: 1 }, '/busway');
          assert.equal(ce.datacontenttype, 'application/x-vendor');
          assert.deepEqual(Buffer.from(ce.data_base64 ?? '', 'base64'), Buffer.from(data));
        },
      ),
    );
  });

  it('names the stream position when the message has no ce-id, and keeps the traceparent', () => {
    const headers = fabricHeaders({ type: EventTypes.Incident, source: '/busway/correlator' });
    headers.delete(Hdr.Id);
    headers.set(Hdr.TraceParent, '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    const data = busway.v1.Incident.encode({ id: 'inc-1', kind: 'job-power-thermal' }).finish();
    const ce = cloudEventOf({ subject: 'incident.v1.ai1.job-power-thermal', data, headers, seq: 42 }, '/b');
    assert.equal(ce.id, 'incident.v1.ai1.job-power-thermal:42');
    assert.equal(ce.traceparent, '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    assert.equal((ce.data as { kind: string }).kind, 'job-power-thermal');
  });

  it('turns a command status of the write-back worker into JSON data', () => {
    const headers = fabricHeaders({ type: EventTypes.CommandStatus, source: '/busway/command', id: 'cs-1' });
    const data = busway.v1.CommandStatus.encode({
      commandId: 'cmd-12345678',
      code: 'out-of-bounds',
    }).finish();
    const ce = cloudEventOf(
      { subject: 'control.v1.result.a.b.c.d.cdu.e.speed.pump', data, headers, seq: 3 },
      '/b',
    );
    assert.deepEqual(ce.data, { commandId: 'cmd-12345678', code: 'out-of-bounds' });
  });

  it('refuses a payload of a known type that does not decode', () => {
    const headers = fabricHeaders({ type: EventTypes.EventBatch, source: '/x', id: 'bad' });
    assert.throws(
      () =>
        cloudEventOf(
          { subject: 'alarm.v1.a.b.c.d', data: new Uint8Array([0x0a, 0xff, 0xff]), headers, seq: 1 },
          '/b',
        ),
      DecodeError,
    );
  });
});

describe('grouping events into POSTs', () => {
  it('puts every event in exactly one POST, in order, within batchSize and maxBodyBytes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ maxLength: 3000 }), { maxLength: 40 }),
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 1024, max: 20_000 }),
        (payloads, batchSize, maxBodyBytes) => {
          const endpoint = { id: 'e', batchSize, maxBodyBytes } as EndpointConfig;
          const sender = { endpoint, bodyOf: (ev: unknown[]) => bodyOf(ev as never, batchSize > 1) };
          const events = payloads.map((p, at) => ({
            at,
            event: {
              specversion: '1.0' as const,
              id: `e${at}`,
              source: '/',
              type: 't',
              subject: 's',
              datacontenttype: 'text/plain',
              data: p,
            },
          }));
          const tooLarge: number[] = [];
          const chunks = chunksOf(events, sender, (at) => tooLarge.push(at));
          const placed = chunks.flatMap((c) => c.at);
          assert.deepEqual(
            [...placed, ...tooLarge].sort((a, b) => a - b),
            payloads.map((_, i) => i),
          );
          assert.deepEqual(
            placed,
            [...placed].sort((a, b) => a - b),
          );
          for (const c of chunks) {
            assert.ok(c.events.length <= batchSize);
            if (c.events.length > 1) assert.ok(Buffer.byteLength(c.body) <= maxBodyBytes);
          }
          for (const at of tooLarge)
            assert.ok(Buffer.byteLength(JSON.stringify(events[at]?.event)) + 3 > maxBodyBytes);
        },
      ),
    );
  });
});
