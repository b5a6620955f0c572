import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ensureStream, fabricStreams, runWorker, type WorkerRuntime } from '@busway/runtime';
import { DcgmExporter } from '@busway/simulator';
import { startNats, waitFor, type TestServer } from '@busway/testkit';
import { ingestDcgmModule } from './index.js';
import { batchesIn, outcome } from './test-fixtures.js';

describe('DCGM bridge while JetStream does not acknowledge', () => {
  let nats: TestServer;
  let exporter: DcgmExporter;
  let rt: WorkerRuntime;

  before(async () => {
    nats = await startNats();
    exporter = await DcgmExporter.start();
    exporter.set('gpu07', 0, 'DCGM_FI_DEV_POWER_USAGE', 500);
    const targets = [{ id: 'gpu07', url: exporter.urlOf('gpu07'), pollIntervalMs: 100, maxBackoffMs: 400 }];
    ({ rt } = await runWorker(ingestDcgmModule, {
      env: {
        NATS_URL: nats.url,
        BUSWAY_LOG_LEVEL: 'silent',
        BUSWAY_REGISTER_GPUS: 'false',
        BUSWAY_TARGETS: JSON.stringify(targets),
      },
      signals: false,
    }));
  });

  after(async () => {
    await rt?.stop();
    await exporter?.close();
    await nats?.dispose();
  });

  it('stops scraping until the withheld scrape is stored, then delivers it first', async () => {
    const raw = () => batchesIn(rt, 'RAW', 'raw.v1.samples.dcgm.gpu07');
    await waitFor('three scrapes stored', async () => (await raw()).length >= 3, 15_000, 50);
    // without the RAW stream every publish is refused at once: JetStream is "down" for this worker
    await rt.jsm.streams.delete('RAW');
    await waitFor('a refused publish', async () => (await outcome(rt, 'publish-failed')) >= 1, 15_000, 20);
    const refusedAt = Date.now();
    const scrapesWhenRefused = exporter.scrapes;
    await waitFor('three more refusals', async () => (await outcome(rt, 'publish-failed')) >= 4, 15_000, 20);
    assert.equal(exporter.scrapes, scrapesWhenRefused, 'no scrape while the previous one is unacknowledged');

    const spec = fabricStreams().find((s) => s.name === 'RAW');
    assert.ok(spec);
    await ensureStream(rt.jsm, spec, rt.log);
    await waitFor('scraping resumed', async () => (await raw()).length >= 3, 15_000, 50);
    const [withheld] = await raw();
    assert.ok(withheld, 'the withheld scrape was delivered, not dropped');
    const scrapedAt = Number(withheld.samples[0]?.sequence?.toString());
    assert.ok(
      scrapedAt <= refusedAt,
      'the first batch in the new stream is the scrape made before the refusals',
    );
    assert.equal(withheld.samples[0]?.doubleValue, 500);
    assert.ok((await outcome(rt, 'poll-skipped')) >= 1, 'the ticks missed while waiting are counted');
  });
});
