import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bigIntFromTimeNs, busway, timeNsFromMs } from '@busway/proto';
import { LoadPayloads, unsSubjectsOf } from './pipeline-load.js';
import { buildSite } from './site.js';

describe('pipeline benchmark load', () => {
  const site = buildSite(2000);
  const payloads = new LoadPayloads(site, 200, 3);

  it('stamps every sample of a chunk with the send time, in every value variant', () => {
    const ms = 1_800_000_000_123.456;
    const want = bigIntFromTimeNs(timeNsFromMs(ms));
    for (let v = 0; v < 4; v++) {
      const { samples } = busway.v1.SampleBatch.decode(payloads.stamped(v, 2, ms));
      assert.equal(samples.length, 200);
      for (const s of samples) {
        assert.equal(bigIntFromTimeNs(s.eventTimeNs), want);
        assert.equal(bigIntFromTimeNs(s.ingestTimeNs), want);
      }
    }
  });

  it('leaves the template untouched, so two sends never share bytes', () => {
    const a = payloads.stamped(0, 0, 1000);
    const b = payloads.stamped(0, 0, 2000);
    assert.notDeepEqual(a, b);
    assert.equal(bigIntFromTimeNs(busway.v1.SampleBatch.decode(a).samples[0]?.eventTimeNs), 1_000_000_000n);
  });

  it('holds consecutive registered points per chunk, with values that vary between variants', () => {
    const first = busway.v1.SampleBatch.decode(payloads.stamped(0, 1, 0)).samples;
    const second = busway.v1.SampleBatch.decode(payloads.stamped(1, 1, 0)).samples;
    assert.deepEqual(
      first.map((s) => s.pointId),
      site.points.slice(200, 400).map((p) => p.pointId),
    );
    assert.ok(first.some((s, i) => s.doubleValue !== second[i]?.doubleValue));
    assert.equal(payloads.chunks, Math.floor(site.points.length / 200));
  });

  it('names the UNS subjects of the racks a chunk reports, for the latency observer', () => {
    const racks = new Set(
      site.model.points
        .filter((p) => site.points.slice(0, 200).some((q) => q.pointId === p.pointId))
        .map((p) => site.model.assets.find((a) => a.id === p.asset)?.rack),
    );
    const subjects = unsSubjectsOf(payloads, [0]);
    assert.equal(subjects.length, racks.size);
    for (const s of subjects) assert.match(s, /^uns\.v1\.bench\.h1\.r\d+\.rack-\d+\.>$/);
  });
});
