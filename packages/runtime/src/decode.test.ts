import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JsMsg } from '@nats-io/jetstream';
import { busway, EventTypes } from '@busway/proto';
import { decodeOrRefuse, Refused } from './decode.js';
import { fabricHeaders } from './headers.js';

const msgOf = (type: string, data: Uint8Array) =>
  ({ headers: fabricHeaders({ type, source: '/test', id: 'x' }), data }) as unknown as JsMsg;

describe('decoding a fabric message', () => {
  it('returns an Incident (which has a kind field of its own) as a payload, never as an outcome', () => {
    const data = busway.v1.Incident.encode({ id: 'i1', kind: 'job-power-thermal' }).finish();
    const r = decodeOrRefuse(msgOf(EventTypes.Incident, data), EventTypes.Incident, (d) =>
      busway.v1.Incident.decode(d),
    );
    assert.ok(!(r instanceof Refused));
    assert.equal(r.kind, 'job-power-thermal');
  });

  it('refuses another ce-type as a contract violation, and bytes that do not decode as a decode error', () => {
    const incident = (d: Uint8Array) => busway.v1.Incident.decode(d);
    const wrong = decodeOrRefuse(
      msgOf(EventTypes.SampleBatch, new Uint8Array()),
      EventTypes.Incident,
      incident,
    );
    const broken = decodeOrRefuse(
      msgOf(EventTypes.Incident, Uint8Array.of(0xff, 0xff)),
      EventTypes.Incident,
      incident,
    );
    assert.ok(wrong instanceof Refused && broken instanceof Refused);
    assert.deepEqual([wrong.outcome.kind, broken.outcome.kind], ['poison', 'poison']);
    assert.match(JSON.stringify([wrong.outcome, broken.outcome]), /contract-violation.*decode-error/);
  });
});
