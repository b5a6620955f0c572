import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { busway, EventTypes, timeNsFromMs } from '@busway/proto';
import { fabricHeaders } from '@busway/runtime';
import { startNats, type TestServer } from '@busway/testkit';
import { tail } from './commands/tail.js';

describe('busway tail against a real nats-server', () => {
  let nats: TestServer;
  let nc: NatsConnection;
  before(async () => {
    nats = await startNats();
    nc = await connect({ servers: nats.url });
  });
  after(async () => {
    await nc.close();
    await nats.dispose();
  });

  it('stops after --count objects even when more are already queued', async () => {
    const lines: string[] = [];
    const done = tail({
      natsUrl: nats.url,
      subject: 'uns.v1.>',
      json: true,
      count: 3,
      write: (l) => lines.push(l),
    });
    await new Promise((r) => setTimeout(r, 300)); // the subscription is in place
    for (let i = 0; i < 10; i++) {
      const data = busway.v1.SampleBatch.encode({
        samples: [
          {
            pointId: `p${i}`,
            metric: 'power.active',
            doubleValue: i,
            unit: 'W',
            eventTimeNs: timeNsFromMs(1e12 + i),
          },
        ],
      }).finish();
      nc.publish(`uns.v1.s.h.r.k.pdu.pdu-${i}.power.active`, data, {
        headers: fabricHeaders({ type: EventTypes.SampleBatch, source: '/test', id: `m${i}` }),
      });
    }
    await nc.flush();
    assert.equal(await done, 3);
    assert.deepEqual(
      lines.map((l) => (JSON.parse(l) as { value: number }).value),
      [0, 1, 2],
    );
  });
});
