// `npm run bench`: runs every benchmark, prints a markdown table, writes bench/results/latest.{json,md}.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ANOMALY_DEFAULTS, benchAnomaly } from './anomaly.bench.js';
import { API_DEFAULTS, benchApi } from './api.bench.js';
import { benchCorrelator, CORRELATOR_DEFAULTS } from './correlator.bench.js';
import { benchNormalizerWorker } from './normalizer-worker.bench.js';
import { benchNormalizer, DEFAULTS } from './normalizer.bench.js';
import { benchFanout } from './fanout.bench.js';
import { benchLagSweep, LAG_SEEDS } from './lag-sweep.bench.js';
import { benchPipeline, PIPELINE_DEFAULTS, PIPELINE_QUICK } from './pipeline.bench.js';
import { benchSparkplugIngest } from './sparkplug.bench.js';
import { markdown } from './table.js';

const quick = process.argv.includes('--quick');
const opts = quick ? { ...DEFAULTS, rounds: 2, roundMs: 300 } : DEFAULTS;
const rows = [...benchNormalizer(opts), ...(await benchNormalizerWorker(opts.points, quick ? 1 : 3))];
const sparkplug = await benchSparkplugIngest(quick ? 500 : 5000, 200);
// the REST API (paced load from a second process) and fan-out, beside the normalizer process's rate above
const normalizerSamplesPerS = rows.find((r) => r.name.startsWith('normalizer process samples/s'))?.value;
const api = await benchApi(
  quick
    ? { ...API_DEFAULTS, durationS: 3, fanoutFeedS: 3, normalizerSamplesPerS }
    : { ...API_DEFAULTS, normalizerSamplesPerS },
);
const anomaly = benchAnomaly(
  quick ? { ...ANOMALY_DEFAULTS, memorySeries: 50_000, rounds: 2, roundMs: 300 } : ANOMALY_DEFAULTS,
);
const correlator = await benchCorrelator(
  quick
    ? { ...CORRELATOR_DEFAULTS, durationMs: 30_000, rounds: 1, latencyMs: 3000, memoryKeys: 20_000 }
    : CORRELATOR_DEFAULTS,
);
// the coolant lag target over many seeds: cold, and once the loops are learned; at 1 Hz and at 5 Hz
correlator.push(...benchLagSweep(quick ? LAG_SEEDS.slice(0, 2) : LAG_SEEDS));
// fan-out beside a JetStream pass-through of the same shape and the normalizer process's rate; egress rates
const fanout = await benchFanout({
  batches: quick ? 40 : 400,
  egressMessages: quick ? 4000 : 40_000,
  normalizerRate: rows.find((r) => r.name.startsWith('normalizer process samples/s'))?.value,
});
// the whole pipeline, each worker its own process, beside a same-hop JetStream pass-through in the same run
const pipeline = await benchPipeline(quick ? PIPELINE_QUICK : PIPELINE_DEFAULTS);
const machine = `${cpus()[0]?.model ?? 'cpu'} x${cpus().length}, Node ${process.version}`;
const md = [
  markdown('Sparkplug ingest', sparkplug),
  markdown('Normalizer', rows),
  markdown('Fan-out and egress', fanout),
  markdown('REST API and fan-out', api),
  markdown('Anomaly scoring', anomaly),
  markdown('Correlator', correlator),
  markdown('End to end (RAW → UNS, every worker its own process)', pipeline),
  `${new Date().toISOString()} · ${machine}${quick ? ' · --quick' : ''}\n`,
].join('\n\n');
process.stdout.write(`${md}\n`);
const dir = join(dirname(fileURLToPath(import.meta.url)), '../results');
mkdirSync(dir, { recursive: true });
writeFileSync(
  join(dir, 'latest.json'),
  JSON.stringify(
    { machine, options: opts, sparkplug, normalizer: rows, api, anomaly, correlator, fanout, pipeline },
    null,
    2,
  ),
);
writeFileSync(join(dir, 'latest.md'), md);
