import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connect } from '@nats-io/transport-node';
import { busway } from '@busway/proto';
import { startNats, waitFor } from '@busway/testkit';
import { describeIncident, watchIncidents } from './demo-incidents.js';

const jobChain = (id: string, confidence: number): busway.v1.IIncident => ({
  id: `job-power-thermal:${id}`,
  kind: 'job-power-thermal',
  confidence,
  summary: `job ${id} on rack-1: ${confidence * 2} of 2 expected responses seen`,
  chain: [
    { role: 'cause', eventId: `${id}:started`, lagMs: 0 },
    {
      role: 'power-response',
      path: { asset: 'pdu-1' },
      magnitude: 20_250,
      unit: 'W',
      lagMs: 400,
      lagSdMs: 57.7,
    },
    ...(confidence === 1
      ? [
          {
            role: 'thermal-response',
            path: { asset: 'cdu-1' },
            magnitude: 1.123,
            unit: 'Cel',
            lagMs: 3050,
            lagSdMs: 124,
          },
        ]
      : []),
  ],
});

describe('the incidents the demo shows', () => {
  it('reads a chain as magnitudes and lags with their standard errors', () => {
    assert.equal(
      describeIncident(jobChain('j1', 1)),
      'job j1 on rack-1: 2 of 2 expected responses seen: pdu-1 +20.3 kW after 0.40 ± 0.06 s; cdu-1 +1.12 Cel after 3.05 ± 0.12 s',
    );
    const unestimated = {
      ...jobChain('j2', 0.5),
      chain: [{ role: 'power-response', magnitude: -500, unit: 'W', lagMs: 0 }],
    };
    assert.match(
      describeIncident(unestimated),
      /site -0\.5 kW after 0\.00 s$/,
      'no ± when the lag was not estimated',
    );
  });

  it('counts every incident by kind and shows the complete ones, job chains first', async () => {
    const nats = await startNats();
    const nc = await connect({ servers: nats.url });
    const watch = watchIncidents(nc, 2);
    try {
      const send = (i: busway.v1.IIncident) =>
        nc.publish(`incident.v1.ai1.${i.kind}`, busway.v1.Incident.encode(i).finish());
      send({
        id: 'grid-load-response:e1',
        kind: 'grid-load-response',
        confidence: 1,
        summary: 'grid e1',
        chain: [],
      });
      send(jobChain('left-open', 0.5)); // an earlier run's chain, closed incomplete
      send(jobChain('j1', 1));
      send(jobChain('j2', 1));
      send(jobChain('j3', 1));
      nc.publish('incident.v1.ai1.job-power-thermal', new Uint8Array([0xff, 0xff, 0xff]));
      await nc.flush();
      await waitFor(
        'every incident read',
        async () => Object.values(watch.summary().byKind).reduce((a, b) => a + b, 0) === 6,
      );
      const { byKind, examples } = watch.summary();
      assert.deepEqual(byKind, { 'grid-load-response': 1, 'job-power-thermal': 4, undecodable: 1 });
      assert.deepEqual(
        examples.map((e) => e.split(':')[0]),
        ['job j1 on rack-1', 'job j2 on rack-1'],
        'complete job chains first, as many as asked for; the incomplete one left out',
      );
    } finally {
      watch.stop();
      await nc.close();
      await nats.dispose();
    }
  });
});
