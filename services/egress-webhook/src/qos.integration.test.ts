// The QoS claim, shown end to end: a flood far past the analytics consumer's limits does not delay the control path.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { busway, EventTypes, timeNsFromMs } from '@busway/proto';
import { fabricHeaders, runWorker, type WorkerRuntime } from '@busway/runtime';
import { startNats, waitFor, type TestServer } from '@busway/testkit';
import { durableOf, egressWebhookModule } from './index.js';
import { TestReceiver } from './test-receiver.js';

const ANALYTICS_MAX_ACK_PENDING = 64;
const CONTROL_MESSAGES = 60;
const FLOOD = 4000;
const FIREHOSE = durableOf('firehose', 'uns.v1.>');

const sample = (i: number) =>
  busway.v1.SampleBatch.encode({
    samples: [
      { pointId: `p:${i}`, metric: 'power.active', doubleValue: i, unit: 'W', eventTimeNs: timeNsFromMs(i) },
    ],
  }).finish();
const alarm = (i: number) =>
  busway.v1.EventBatch.encode({
    events: [
      {
        id: `al-${i}`,
        kind: busway.v1.EventKind.EVENT_KIND_ALARM,
        alarm: { alarmId: `al-${i}`, active: true },
      },
    ],
  }).finish();
const incident = (i: number) =>
  busway.v1.Incident.encode({ id: `inc-${i}`, kind: 'unexplained-power-transient' }).finish();

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] as number;
};

describe('QoS tiers: alarms, incidents and command results beside a flood of samples', () => {
  let nats: TestServer;
  let rt: WorkerRuntime;
  const rx = new TestReceiver();
  const arrivedAtMs = new Map<string, number>();
  let seq = 0;

  const publish = (subject: string, data: Uint8Array, type: string) => {
    const id = `q-${++seq}`;
    return rt.js
      .publish(subject, data, { headers: fabricHeaders({ type, source: '/test', id }), msgID: id })
      .then(() => id);
  };

  /** Publishes the control messages 20 ms apart (alarm, incident, command result in turn); returns each one's latency. */
  const controlRound = async (round: string): Promise<number[]> => {
    const sentAtMs = new Map<string, number>();
    for (let i = 0; i < CONTROL_MESSAGES; i++) {
      const t = Date.now();
      const id =
        i % 3 === 0
          ? await publish(`alarm.v1.ai1.h1.r1.rack-${i}`, alarm(i), EventTypes.EventBatch)
          : i % 3 === 1
            ? await publish(`incident.v1.ai1.unexplained-power-transient`, incident(i), EventTypes.Incident)
            : await publish(
                `control.v1.result.ai1.h1.r1.plant-r1.cdu.cdu-r1.temperature.coolant.supply.setpoint`,
                busway.v1.CommandStatus.encode({ commandId: `${round}-${i}`, code: 'confirmed' }).finish(),
                EventTypes.CommandStatus,
              );
      sentAtMs.set(id, t);
      await new Promise((r) => setTimeout(r, 20));
    }
    await waitFor(
      `every ${round} control message`,
      () => [...sentAtMs.keys()].every((id) => arrivedAtMs.has(id)),
      20_000,
    );
    return [...sentAtMs].map(([id, t]) => (arrivedAtMs.get(id) as number) - t);
  };

  before(async () => {
    nats = await startNats();
    await rx.start();
    rx.on('/firehose', () => ({ status: 200, delayMs: 40 })); // a slow analytics receiver: about 50 POSTs/s
    rx.on('/ops', (_n, req) => {
      const id = (JSON.parse(req.body) as { id: string }).id;
      if (!arrivedAtMs.has(id)) arrivedAtMs.set(id, req.atMs);
      return { status: 200 };
    });
    const endpoints = [
      { id: 'firehose', url: rx.url('/firehose'), subjects: ['uns.v1.>'], concurrency: 2 },
      { id: 'ops', url: rx.url('/ops'), subjects: ['alarm.v1.>', 'incident.v1.>', 'control.v1.result.>'] },
    ];
    ({ rt } = await runWorker(egressWebhookModule, {
      env: {
        NATS_URL: nats.url,
        BUSWAY_LOG_LEVEL: 'silent',
        BUSWAY_ENDPOINTS: JSON.stringify(endpoints),
        BUSWAY_MAX_ACK_PENDING: String(ANALYTICS_MAX_ACK_PENDING),
        BUSWAY_BATCH_SIZE: '32',
      },
      signals: false,
    }));
  });
  after(async () => {
    await rt.stop();
    await rx.stop();
    await nats.dispose();
  });

  it('delivers every control message, and as fast as without the flood, while the analytics backlog stays far past its limits', async (t) => {
    const baseline = await controlRound('baseline');

    for (let i = 0; i < FLOOD; i += 500)
      await Promise.all(
        Array.from({ length: 500 }, (_, k) =>
          publish(`uns.v1.ai1.h1.r1.rack-1.pdu.pdu-1.power.active`, sample(i + k), EventTypes.SampleBatch),
        ),
      );
    const saturated = await waitFor('the analytics consumer busy', async () => {
      const c = await rt.jsm.consumers.info('UNS', FIREHOSE);
      return c.num_ack_pending > 0 ? c : undefined;
    });
    assert.ok(
      saturated.num_pending > 30 * ANALYTICS_MAX_ACK_PENDING,
      `a backlog of ${saturated.num_pending} samples, far past maxAckPending ${ANALYTICS_MAX_ACK_PENDING}`,
    );
    assert.ok(saturated.num_ack_pending <= ANALYTICS_MAX_ACK_PENDING, 'the analytics limit holds');

    // the flood goes on while the control messages are published
    let flooding = true;
    const flooder = (async () => {
      for (let i = FLOOD; flooding && i < FLOOD * 2; i += 100)
        await Promise.all(
          Array.from({ length: 100 }, (_, k) =>
            publish(`uns.v1.ai1.h1.r2.rack-2.pdu.pdu-2.power.active`, sample(i + k), EventTypes.SampleBatch),
          ),
        );
    })();
    const flooded = await controlRound('flood');
    flooding = false;
    await flooder;

    const firehose = await rt.jsm.consumers.info('UNS', FIREHOSE);
    assert.ok(
      firehose.num_pending > FLOOD / 2,
      `the last control message arrived while ${firehose.num_pending} samples still waited: it did not queue behind them`,
    );
    assert.equal(arrivedAtMs.size, CONTROL_MESSAGES * 2, 'none lost');
    // generous margins: the claim is "not delayed by the flood"; queued behind it, each would wait for minutes
    const [b50, b90, f50, f90] = [
      quantile(baseline, 0.5),
      quantile(baseline, 0.9),
      quantile(flooded, 0.5),
      quantile(flooded, 0.9),
    ];
    t.diagnostic(`control latency ms: baseline p50 ${b50} p90 ${b90}; flood p50 ${f50} p90 ${f90}`);
    assert.ok(f50 <= 3 * b50 + 100, `median latency ${f50} ms in the flood vs ${b50} ms without`);
    assert.ok(f90 <= 4 * b90 + 250, `p90 latency ${f90} ms in the flood vs ${b90} ms without`);
  });
});
