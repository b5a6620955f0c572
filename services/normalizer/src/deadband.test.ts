import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { busway, timeNsFromMs } from '@busway/proto';
import { Deadband } from './deadband.js';

const T = 1_800_000_000_000;
const at = (ms: number, value: number, quality = busway.v1.Quality.QUALITY_GOOD): busway.v1.ISample => ({
  pointId: 'p',
  doubleValue: value,
  quality,
  eventTimeNs: timeNsFromMs(T + ms),
});

describe('report by exception (deadband)', () => {
  it('holds back changes within the band and reports one beyond it', () => {
    const db = new Deadband(60_000);
    const b = db.stage();
    const kept = [at(0, 20), at(1000, 20.3), at(2000, 19.6), at(3000, 20.6), at(4000, 20.9)].map((s) =>
      b.keep(s, 0.5),
    );
    assert.deepEqual(kept, [true, false, false, true, false]);
  });

  it('reports a quality change and a quiet point after the longest silence, and ignores points without a band', () => {
    const db = new Deadband(10_000);
    const b = db.stage();
    assert.equal(b.keep(at(0, 20), 1), true);
    assert.equal(b.keep(at(1000, 20, busway.v1.Quality.QUALITY_UNCERTAIN), 1), true);
    assert.equal(b.keep(at(2000, 20, busway.v1.Quality.QUALITY_UNCERTAIN), 1), false);
    assert.equal(b.keep(at(11_000, 20, busway.v1.Quality.QUALITY_UNCERTAIN), 1), true);
    assert.equal(b.keep(at(11_500, 20), undefined), true);
  });

  it('judges a redelivered batch against what was published, not against itself', () => {
    const db = new Deadband(60_000);
    const first = db.stage();
    assert.equal(first.keep(at(0, 20), 0.5), true); // published, then the publish fails: no commit
    const again = db.stage();
    assert.equal(again.keep(at(0, 20), 0.5), true, 'the redelivery reports it again');
    again.commit();
    assert.equal(db.stage().keep(at(0, 20), 0.5), false, 'once committed, a replay is held back');
    assert.equal(db.size, 1);
  });

  it('never lets a late sample become the reference', () => {
    const db = new Deadband(60_000);
    const b = db.stage();
    assert.equal(b.keep(at(5000, 30), 0.5), true);
    assert.equal(b.keep(at(1000, 20), 0.5), true, 'an old value outside the band still goes out');
    assert.equal(b.keep(at(6000, 30.2), 0.5), false, 'judged against the newest report, 30');
  });
});
