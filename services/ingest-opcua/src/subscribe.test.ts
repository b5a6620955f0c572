import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DeadbandType } from 'node-opcua';
import { EndpointSchema } from './config.js';
import { filterOf, pointsOf, subscriptionOptionsOf } from './subscribe.js';

const endpoint = (e: Record<string, unknown>) =>
  EndpointSchema.parse({ id: 'cdu-1', url: 'opc.tcp://plc:4840', items: [{ nodeId: 'ns=2;i=7' }], ...e });

describe('OPC UA subscription settings', () => {
  it('keeps keep-alives inside the session timeout, and the subscription alive three session timeouts', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 10, max: 60_000 }),
        fc.integer({ min: 4, max: 1000 }),
        (interval, factor) => {
          const sessionTimeoutMs = Math.max(1000, interval * factor);
          const o = subscriptionOptionsOf(endpoint({ publishingIntervalMs: interval, sessionTimeoutMs }));
          const keepAlive = o.requestedMaxKeepAliveCount ?? 0;
          const lifetime = o.requestedLifetimeCount ?? 0;
          assert.ok(keepAlive >= 2 && keepAlive * interval <= sessionTimeoutMs, `keep-alive ${keepAlive}`);
          assert.ok(lifetime >= 3 * keepAlive);
          assert.ok(lifetime * interval >= 3 * sessionTimeoutMs);
        },
      ),
    );
  });

  it('asks for a deadband filter only when one is configured', () => {
    assert.equal(filterOf(undefined), null);
    assert.equal(filterOf({ type: 'absolute', value: 0.5 })?.deadbandType, DeadbandType.Absolute);
    assert.equal(filterOf({ type: 'percent', value: 2 })?.deadbandValue, 2);
  });

  it('names points by the configured name, else by the canonical node id', () => {
    const [named, plain] = pointsOf(
      endpoint({ items: [{ nodeId: 'ns=2;s=Flow', name: 'flow', unit: 'L/min' }, { nodeId: 'i=2258' }] }),
    );
    assert.equal(named?.pointId, 'opcua:cdu-1:flow');
    assert.equal(named?.unit, 'L/min');
    assert.equal(plain?.pointId, 'opcua:cdu-1:ns=0;i=2258');
    assert.equal(plain?.address, 'opc.tcp://plc:4840#ns=0;i=2258');
  });
});
