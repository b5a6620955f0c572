import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PriorityGate, streamOfSubject, tierConsumerConfig, tierOfStream } from './qos.js';
import { ConsumerConfigSchema } from './config.js';
import { ControlTierConfigSchema } from './qos.js';

describe('QoS tiers', () => {
  it('finds the one stream that captures every subject of a filter, and none for a filter spanning streams', () => {
    assert.equal(streamOfSubject('alarm.v1.>'), 'ALARMS');
    assert.equal(streamOfSubject('alarm.v1.ai1.*.*.rack-1'), 'ALARMS');
    assert.equal(streamOfSubject('uns.v1.ai1.*.*.*.cdu.>'), 'UNS');
    assert.equal(streamOfSubject('control.v1.command.>'), 'CONTROL');
    assert.equal(streamOfSubject('rollup.v1.1m.>'), 'ROLLUP_1M');
    assert.equal(streamOfSubject('rollup.v1.*.ai1.>'), undefined, 'two rollup streams');
    assert.equal(streamOfSubject('>'), undefined);
    assert.equal(streamOfSubject('uns.v1'), undefined, 'no subject of the stream has only two tokens');
    assert.equal(streamOfSubject('events.v1.incident.>'), undefined, 'core NATS, no stream');
  });

  it('puts alarms, incidents and commands on the control tier and everything else on analytics', () => {
    assert.deepEqual(['ALARMS', 'INCIDENTS', 'CONTROL', 'UNS', 'ORDERED', 'ANOMALIES'].map(tierOfStream), [
      'control',
      'control',
      'control',
      'analytics',
      'analytics',
      'analytics',
    ]);
  });

  it('gives the control tier its own limits and analytics the worker keys', () => {
    const c = {
      ...ConsumerConfigSchema.parse({}),
      ...ControlTierConfigSchema.parse({ controlMaxAckPending: 32 }),
    };
    assert.equal(tierConsumerConfig(c, 'control').maxAckPending, 32);
    assert.equal(tierConsumerConfig(c, 'control').batchSize, 16);
    assert.equal(tierConsumerConfig(c, 'analytics').maxAckPending, 4096);
  });

  it('holds analytics work back while control work is in hand, and lets it go when the control work ends', async () => {
    const gate = new PriorityGate(10_000);
    const order: string[] = [];
    let finishControl!: () => void;
    const control = gate.control(() => new Promise<void>((r) => (finishControl = r)));
    const analytics = gate.analyticsTurn().then(() => order.push('analytics'));
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(order.length, 0, 'analytics waits');
    order.push('control-done');
    finishControl();
    await Promise.all([control, analytics]);
    assert.deepEqual(order, ['control-done', 'analytics']);
  });

  it('never starves analytics: it goes after maxWaitMs even while control work continues', async () => {
    const gate = new PriorityGate(20);
    let finish!: () => void;
    const control = gate.control(() => new Promise<void>((r) => (finish = r)));
    await gate.analyticsTurn();
    assert.equal(gate.controlInFlight, 1);
    finish();
    await control;
  });
});
