import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { busway, EventTypes, timeNsFromBigInt } from '@busway/proto';
import { fabricHeaders, deadLetterHeaders } from '@busway/runtime';
import { decodeFabricMessage } from './decode.js';

describe('decoding fabric messages for tail', () => {
  it('prints one object per sample with metric, value, UCUM unit, nanosecond RFC 3339 time, quality and source', () => {
    const data = busway.v1.SampleBatch.encode({
      samples: [
        {
          pointId: 'sparkplug:ai1-h1/row-r1-gw/cdu-r1:Return Temp',
          path: { site: 'ai1', hall: 'h1', row: 'r1', rack: 'plant-r1', assetClass: 'cdu', asset: 'cdu-r1' },
          metric: 'temperature.coolant.return',
          doubleValue: 41.25,
          unit: 'Cel',
          eventTimeNs: timeNsFromBigInt(1795394671123456789n),
          quality: busway.v1.Quality.QUALITY_GOOD,
          source: { protocol: 'sparkplug', address: 'spBv1.0/ai1-h1/DDATA/row-r1-gw/cdu-r1' },
        },
      ],
    }).finish();
    const h = fabricHeaders({ type: EventTypes.SampleBatch, source: '/test', id: 'x' });
    const [o] = decodeFabricMessage(
      'uns.v1.ai1.h1.r1.plant-r1.cdu.cdu-r1.temperature.coolant.return',
      data,
      h,
    );
    assert.equal(o?.metric, 'temperature.coolant.return');
    assert.equal(o?.value, 41.25);
    assert.equal(o?.unit, 'Cel');
    assert.equal(o?.time, '2026-11-23T00:44:31.123456789Z');
    assert.equal(o?.quality, 'good');
    assert.equal(o?.source, 'sparkplug:spBv1.0/ai1-h1/DDATA/row-r1-gw/cdu-r1');
    assert.equal(o?.uns, 'uns.v1.ai1.h1.r1.plant-r1.cdu.cdu-r1.temperature.coolant.return');
  });

  it('shows a dead letter as its reason, not as a payload', () => {
    const h = deadLetterHeaders(undefined, 'ingest-sparkplug', 'mqtt:spBv1.0/g/DDATA/e', {
      code: 'decode-error',
      message: 'index out of range',
    });
    const [o] = decodeFabricMessage('dlq.v1.ingest-sparkplug', new Uint8Array([1, 2, 3]), h);
    assert.deepEqual(o?.deadLetter, {
      code: 'decode-error',
      reason: 'index out of range',
      stage: 'ingest-sparkplug',
      from: 'mqtt:spBv1.0/g/DDATA/e',
    });
  });
});
