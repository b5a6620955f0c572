import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { parser } from '@prometheus-io/lezer-promql';
import { findWorker } from '@busway/cli';
import { runWorker, type RunningWorker, type WorkerRuntime } from '@busway/runtime';
import { startMosquitto, startNats, startRedis, type TestServer } from '@busway/testkit';

const DASHBOARD = new URL('../../deploy/grafana/busway.json', import.meta.url);
const README = new URL('../../deploy/grafana/README.md', import.meta.url);
/** The workers whose metrics the dashboard shows: every runtime metric, the correlator's and the anomaly's own. */
const WORKERS = ['ingest-sparkplug', 'normalizer', 'correlator', 'anomaly', 'fanout'];
/** Series Prometheus makes itself for every scrape target. */
const PROMETHEUS_OWN = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped']);
/** What the issue asks the dashboard to show, by the metric that shows it. */
const REQUIRED = {
  'throughput per stage': 'busway_samples_total',
  'consumer lag': 'busway_consumer_pending_messages',
  'event time → processed latency': 'busway_event_latency_seconds_bucket',
  'receive → ack latency': 'busway_receive_to_ack_seconds_bucket',
  'dead letters by reason': 'busway_dead_letters_total',
  'late samples': 'busway_late_samples_total',
  'watermark lag': 'busway_watermark_lag_seconds',
  'bridge buffer fill': 'busway_bridge_buffer_limit_bytes',
  'worker readiness': 'busway_worker_ready',
  'scrape targets up': 'up',
};

interface Target {
  expr: string;
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: Target[];
  panels?: Panel[];
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: string | { query: string } }[] };
}

const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
const queries = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

/** Grafana's own variables, replaced by what Grafana would put there, so the query parses as plain PromQL. */
const asPromql = (expr: string) =>
  expr.replace(/\$__rate_interval|\$__interval|\$__range/g, '5m').replace(/\$\{?(\w+)\}?/g, 'x');

/** Metric names a PromQL expression selects, parsed with Prometheus' own grammar; throws on a syntax error. */
function metricsOf(expr: string): string[] {
  const source = asPromql(expr);
  const names: string[] = [];
  parser.parse(source).iterate({
    enter: (node) => {
      if (node.type.isError) throw new Error(`PromQL syntax error at ${node.from} in: ${source}`);
      if (node.name === 'VectorSelector') {
        const id = node.node.getChild('Identifier');
        if (id) names.push(source.slice(id.from, id.to));
      }
    },
  });
  return names;
}

/** The selector inside a variable's `label_values(<selector>, <label>)`. */
function variableMetrics(query: string): string[] {
  const m = /^label_values\((.+),\s*\w+\)$/.exec(query.trim());
  return m ? metricsOf(m[1] as string) : [];
}

/** Metric families in Prometheus text: histogram families also stand for their _bucket, _sum and _count. */
function familiesOf(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (!m) continue;
    const [, name, type] = m as unknown as [string, string, string];
    out.set(name, type);
    if (type === 'histogram' || type === 'summary')
      for (const suffix of ['_bucket', '_sum', '_count']) out.set(`${name}${suffix}`, type);
  }
  return out;
}

describe('the Grafana dashboard in deploy/grafana', () => {
  it('is a dashboard with a Prometheus data source variable that every panel uses', () => {
    assert.equal(dashboard.uid, 'busway-pipeline');
    const ds = dashboard.templating.list.find((v) => v.type === 'datasource');
    assert.equal(ds?.query, 'prometheus');
    for (const p of panels.filter((p) => p.type !== 'row')) {
      assert.equal(p.datasource?.uid, `\${${ds?.name}}`, `${p.title} reads the data source variable`);
      assert.ok((p.targets ?? []).length > 0, `${p.title} has a query`);
    }
    const ids = panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
  });

  it('lays its panels out on the 24-column grid without overlaps', () => {
    const cells = new Set<string>();
    for (const p of panels) {
      const { x, y, w, h } = p.gridPos;
      assert.ok(x >= 0 && w > 0 && x + w <= 24, `${p.title} fits in 24 columns`);
      for (let i = x; i < x + w; i++)
        for (let j = y; j < y + h; j++) {
          assert.ok(!cells.has(`${i},${j}`), `${p.title} does not overlap another panel at ${i},${j}`);
          cells.add(`${i},${j}`);
        }
    }
  });

  it('shows every signal the issue asks for', () => {
    const used = new Set(queries.flatMap((q) => metricsOf(q.expr)));
    for (const [signal, metric] of Object.entries(REQUIRED))
      assert.ok(used.has(metric), `a panel shows ${signal} (${metric})`);
  });
});

describe('the dashboard against the metrics the workers really export', () => {
  let nats: TestServer;
  let redis: TestServer;
  let broker: TestServer;
  const running: { rt: WorkerRuntime; worker: RunningWorker }[] = [];
  const exported = new Map<string, string>();

  before(async () => {
    [nats, redis, broker] = await Promise.all([startNats(), startRedis(), startMosquitto()]);
    const env: NodeJS.ProcessEnv = {
      NATS_URL: nats.url,
      REDIS_URL: redis.url,
      MQTT_URL: broker.url,
      BUSWAY_LOG_LEVEL: 'warn',
      BUSWAY_CONFIG: '',
    };
    for (const name of WORKERS) {
      const mod = await findWorker(name)?.load();
      assert.ok(mod, `worker ${name} is in the catalog`);
      running.push(await runWorker(mod, { env, signals: false }));
    }
    for (const { rt } of running) {
      const res = await fetch(`http://127.0.0.1:${rt.health.port}/metrics`);
      assert.equal(res.status, 200);
      for (const [name, type] of familiesOf(await res.text())) exported.set(name, type);
    }
  });

  after(async () => {
    for (const { rt } of running.reverse()) await rt.stop();
    await Promise.all([nats?.dispose(), redis?.dispose(), broker?.dispose()]);
  });

  it('names only metrics a running worker exports, in queries that parse as PromQL', () => {
    assert.ok(exported.size > 20, `the workers export their metrics (${exported.size})`);
    for (const q of queries)
      for (const metric of metricsOf(q.expr))
        assert.ok(
          exported.has(metric) || PROMETHEUS_OWN.has(metric),
          `"${q.panel}" queries ${metric}, which no worker exports`,
        );
    for (const v of dashboard.templating.list)
      for (const metric of variableMetrics(typeof v.query === 'string' ? v.query : v.query.query))
        assert.ok(exported.has(metric), `variable ${v.name} reads ${metric}, which no worker exports`);
  });

  it('finds every Busway metric the workers export documented in the README', () => {
    const readme = readFileSync(README, 'utf8');
    const own = [...exported.keys()].filter(
      (n) =>
        n.startsWith('busway_') && !/^busway_(process|nodejs)_/.test(n) && !/_(bucket|sum|count)$/.test(n),
    );
    assert.ok(own.length > 10);
    for (const name of own)
      assert.ok(readme.includes(`\`${name}\``), `${name} is documented in deploy/grafana/README.md`);
  });
});
