import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CircuitBreaker } from './breaker.js';

const waitUntil = async (ok: () => boolean) => {
  while (!ok()) await new Promise((r) => setTimeout(r, 5));
};

describe('circuit breaker', () => {
  it('opens after the threshold of failures in a row, lets one probe through later, and closes on its success', async () => {
    const changes: boolean[] = [];
    const b = new CircuitBreaker(3, 150, (open) => changes.push(open));
    const signal = new AbortController().signal;
    for (let i = 0; i < 3; i++) {
      assert.equal(await b.admit(signal), true);
      b.failure();
    }
    assert.equal(b.isOpen, true);
    assert.deepEqual(changes, [true]);
    // two callers wait; once the open time is over one of them (the probe) goes, the other waits for its answer
    let admitted = 0;
    const callers = [b.admit(signal), b.admit(signal)].map((p) => p.then(() => admitted++));
    await waitUntil(() => admitted === 1);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(admitted, 1, 'nobody else goes while the probe is out');
    b.success();
    await Promise.all(callers);
    assert.equal(admitted, 2);
    assert.deepEqual(changes, [true, false]);
    assert.equal(b.isOpen, false);
  });

  it('opens again when the probe fails', async () => {
    const b = new CircuitBreaker(1, 100);
    const signal = new AbortController().signal;
    b.failure();
    assert.equal(await b.admit(signal), true); // the probe, after 100 ms
    b.failure();
    assert.equal(b.isOpen, true);
  });

  it('a failure count below the threshold is reset by a success', async () => {
    const b = new CircuitBreaker(2, 10_000);
    b.failure();
    b.success();
    b.failure();
    assert.equal(b.isOpen, false);
  });

  it('stops waiting, refusing admission, when the worker stops', async () => {
    const b = new CircuitBreaker(1, 60_000);
    b.failure();
    const stop = new AbortController();
    const admitted = b.admit(stop.signal);
    stop.abort();
    assert.equal(await admitted, false);
  });
});
