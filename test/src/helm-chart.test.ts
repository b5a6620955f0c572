import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CATALOG } from '@busway/cli';
import {
  accessOf,
  inboxPrefixOf,
  nonWorkerUsers,
  passwordEnvOf,
  renderNatsUsers,
  WORKER_ACCESS,
} from '@busway/runtime';
import { CHART, helm, renderChart, ROOT, type Manifest } from './helm.js';
import { validateManifests } from './k8s-schema.js';

const VALUES = {
  default: [],
  minimal: [join(CHART, 'ci', 'minimal-values.yaml')],
  production: [join(CHART, 'ci', 'production-values.yaml')],
  tls: [join(CHART, 'ci', 'tls-values.yaml')],
} as const;

/** Documented metadata keys of KEDA's nats-jetstream trigger. */
const NATS_JETSTREAM_TRIGGER_KEYS = [
  'natsServerMonitoringEndpoint',
  'account',
  'stream',
  'consumer',
  'lagThreshold',
  'activationLagThreshold',
  'useHttps',
];

type Container = {
  name: string;
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  securityContext?: Record<string, unknown>;
  livenessProbe?: { httpGet?: { path: string; port: string } };
  readinessProbe?: { httpGet?: { path: string; port: string } };
  volumeMounts?: { name: string; mountPath: string }[];
};
type PodSpec = {
  containers: Container[];
  volumes?: { name: string; secret?: { secretName: string }; configMap?: { name: string } }[];
  securityContext?: Record<string, unknown>;
};

const podSpecOf = (m: Manifest) => (m.spec as { template: { spec: PodSpec } }).template.spec;
const workerOf = (m: Manifest) => m.metadata.labels?.['app.kubernetes.io/component'] ?? '';
const workloads = (ms: Manifest[]) => ms.filter((m) => m.kind === 'Deployment' || m.kind === 'StatefulSet');
const envOf = (c: Container, name: string) => c.env?.find((e) => e.name === name);
const byKind = (ms: Manifest[], kind: string) => ms.filter((m) => m.kind === kind);

/** Each `{ user: ... }` block of a nats-server users list, by user name. */
function userBlocks(conf: string): Map<string, string> {
  const blocks = conf.match(/^ {2}\{\n {4}user: "[^"]+"[\s\S]*?\n {2}\}/gm) ?? [];
  return new Map(blocks.map((b) => [/user: "([^"]+)"/.exec(b)?.[1] ?? '', b]));
}

describe('the Helm chart, linted and rendered without a cluster', () => {
  const rendered = new Map<keyof typeof VALUES, Manifest[]>();
  let scratch: string;

  before(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'busway-chart-'));
    for (const [name, files] of Object.entries(VALUES)) {
      rendered.set(name as keyof typeof VALUES, await renderChart([...files]));
    }
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('passes helm lint --strict with the default, minimal, production and TLS values', async () => {
    for (const files of Object.values(VALUES)) {
      const { stdout } = await helm(['lint', '--strict', CHART, ...files.flatMap((f) => ['-f', f])]);
      assert.match(stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    }
  });

  it('renders only objects that validate against the Kubernetes and KEDA schemas, with no unknown field', async () => {
    for (const [name, manifests] of rendered) {
      assert.ok(manifests.length > 10, `${name}: something rendered`);
      assert.deepEqual(await validateManifests(manifests), [], `${name} values`);
    }
  });

  it('renders every worker of the access table when it is enabled, and each validates', async () => {
    const set = WORKER_ACCESS.map((w) => `workers.${w.worker}.enabled=true`);
    const manifests = await renderChart([], set);
    assert.deepEqual(workloads(manifests).map(workerOf).sort(), WORKER_ACCESS.map((w) => w.worker).sort());
    assert.deepEqual(await validateManifests(manifests), []);
  });

  it('catches a schema violation: a typo in a key, a bad schema type or a catalog miss fails the render', async () => {
    const probe = (file: string, text: string) => {
      const path = join(scratch, file);
      writeFileSync(path, text);
      return renderChart([path]);
    };
    const strictProblems = await validateManifests([
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'typo' },
        spec: {
          selector: { matchLabels: { a: 'b' } },
          template: {
            metadata: { labels: { a: 'b' } },
            spec: { containers: [{ name: 'c', image: 'i', readinesProbe: {} }] },
          },
        },
      },
    ]);
    assert.deepEqual(strictProblems, ['Deployment/typo.spec.template.spec.containers[0].readinesProbe']);
    await assert.rejects(probe('typo.yaml', 'workers:\n  normalizer:\n    replicaz: 2\n'), /replicaz/);
    await assert.rejects(probe('type.yaml', 'httpPort: "8080"\n'), /httpPort/);
    await assert.rejects(
      probe('unknown.yaml', 'workers:\n  ingest-nowhere:\n    enabled: true\n'),
      /no such worker/,
    );
  });

  it('refuses replicas or autoscaling that a worker’s scaling kind forbids', async () => {
    await assert.rejects(renderChart([], ['workers.ingest-sparkplug.replicas=2']), /singleton/);
    await assert.rejects(renderChart([], ['workers.ingest-dsx.autoscaling.enabled=true']), /singleton/);
    await assert.rejects(renderChart([], ['workers.correlator.autoscaling.enabled=true']), /partitions/);
    await assert.rejects(
      renderChart([], ['workers.correlator.replicas=4', 'workers.correlator.partitionCount=3']),
      /partitionCount/,
    );
  });

  it('runs every worker as `busway run <worker>`, unprivileged, read-only, probed on /healthz and /readyz', () => {
    const catalog = new Set(CATALOG.map((w) => w.name));
    for (const [name, manifests] of rendered) {
      for (const w of workloads(manifests)) {
        const pod = podSpecOf(w);
        const [c] = pod.containers;
        assert.ok(c, `${name}: ${w.metadata.name} has a container`);
        assert.deepEqual(c.args, ['run', workerOf(w)]);
        assert.ok(catalog.has(workerOf(w)), `${workerOf(w)} is a worker the CLI can run`);
        assert.equal(pod.securityContext?.runAsNonRoot, true);
        assert.equal(c.securityContext?.readOnlyRootFilesystem, true);
        assert.equal(c.securityContext?.allowPrivilegeEscalation, false);
        assert.deepEqual(c.livenessProbe?.httpGet, { path: '/healthz', port: 'http' });
        assert.deepEqual(c.readinessProbe?.httpGet, { path: '/readyz', port: 'http' });
        assert.equal(envOf(c, 'BUSWAY_HTTP_PORT')?.value, '8080');
      }
    }
  });

  it('makes the partitioned correlator a StatefulSet with its partition env, the singletons Recreate Deployments', () => {
    const manifests = rendered.get('production') ?? [];
    const sts = byKind(manifests, 'StatefulSet');
    assert.deepEqual(sts.map(workerOf), ['correlator']);
    const [correlator] = sts;
    assert.ok(correlator);
    const spec = correlator.spec as { replicas: number; serviceName: string };
    const c = podSpecOf(correlator).containers[0] as Container;
    assert.equal(envOf(c, 'BUSWAY_REPLICAS')?.value, String(spec.replicas));
    assert.equal(envOf(c, 'BUSWAY_PARTITION_COUNT')?.value, '12');
    assert.equal(envOf(c, 'BUSWAY_REPLICA_INDEX'), undefined, 'the index comes from the pod ordinal');
    const headless = byKind(manifests, 'Service').find((s) => s.metadata.name === spec.serviceName);
    assert.equal((headless?.spec as { clusterIP?: string }).clusterIP, 'None');
    for (const d of byKind(manifests, 'Deployment')) {
      const singleton = accessOf(workerOf(d))?.scaling === 'singleton';
      const strategy = (d.spec as { strategy: { type: string } }).strategy.type;
      assert.equal(strategy, singleton ? 'Recreate' : 'RollingUpdate', workerOf(d));
    }
    for (const w of workloads(manifests)) {
      assert.ok(
        byKind(manifests, 'PodDisruptionBudget').some((p) => p.metadata.name === w.metadata.name),
        `${w.metadata.name} has a PodDisruptionBudget`,
      );
    }
  });

  it('scales on consumer lag with one nats-jetstream trigger per consumer the worker reads', () => {
    const scaled = byKind(rendered.get('production') ?? [], 'ScaledObject');
    assert.deepEqual(scaled.map(workerOf).sort(), ['fanout', 'normalizer']);
    for (const so of scaled) {
      const spec = so.spec as {
        scaleTargetRef: { kind: string; name: string };
        triggers: { type: string; metadata: Record<string, string> }[];
      };
      assert.equal(spec.scaleTargetRef.kind, 'Deployment');
      const lag = spec.triggers.filter((t) => t.type === 'nats-jetstream');
      const consumers = accessOf(workerOf(so))?.consume ?? [];
      assert.deepEqual(
        lag.map((t) => `${t.metadata.stream}/${t.metadata.consumer}`),
        consumers.map((c) => `${c.stream}/${c.durable}`),
      );
      for (const t of lag) {
        assert.deepEqual(
          Object.keys(t.metadata).filter((k) => !NATS_JETSTREAM_TRIGGER_KEYS.includes(k)),
          [],
        );
        assert.equal(t.metadata.account, 'BUSWAY');
      }
    }
    const hpas = byKind(rendered.get('tls') ?? [], 'HorizontalPodAutoscaler');
    assert.deepEqual(hpas.map(workerOf).sort(), ['fanout', 'normalizer']);
  });

  it('gives each worker its own NATS user, password key, inbox and no provisioning rights', () => {
    for (const w of workloads(rendered.get('production') ?? [])) {
      const name = workerOf(w);
      const c = podSpecOf(w).containers[0] as Container;
      assert.equal(envOf(c, 'NATS_USER')?.value, `busway-${name}`);
      assert.deepEqual(envOf(c, 'NATS_PASSWORD')?.valueFrom?.secretKeyRef, {
        name: 'busway-nats-passwords',
        key: name,
      });
      assert.equal(envOf(c, 'BUSWAY_NATS_INBOX_PREFIX')?.value, inboxPrefixOf(name));
      assert.equal(envOf(c, 'BUSWAY_PROVISION')?.value, 'false');
      const uses = accessOf(name)?.uses ?? [];
      assert.equal(envOf(c, 'REDIS_URL') !== undefined, uses.includes('redis'), `${name} REDIS_URL`);
      assert.equal(envOf(c, 'MQTT_URL') !== undefined, uses.includes('mqtt'), `${name} MQTT_URL`);
      assert.equal(
        envOf(c, 'OTEL_EXPORTER_OTLP_ENDPOINT')?.value,
        'http://otel-collector.observability.svc:4318',
      );
    }
  });

  it('mounts the CA, each worker’s client certificate and its .creds file for mutual TLS', () => {
    for (const w of workloads(rendered.get('tls') ?? [])) {
      const name = workerOf(w);
      const pod = podSpecOf(w);
      const c = pod.containers[0] as Container;
      const mountOf = (path: string | undefined) =>
        c.volumeMounts?.find((m) => path?.startsWith(`${m.mountPath}/`));
      const secretOf = (path: string | undefined) =>
        pod.volumes?.find((v) => v.name === mountOf(path)?.name)?.secret?.secretName;
      assert.equal(secretOf(envOf(c, 'NATS_TLS_CA')?.value), 'nats-ca');
      const client = name === 'normalizer' ? 'busway-normalizer-tls' : 'busway-nats-client';
      assert.equal(secretOf(envOf(c, 'NATS_TLS_CERT')?.value), client, name);
      assert.equal(secretOf(envOf(c, 'NATS_TLS_KEY')?.value), client, name);
      assert.equal(envOf(c, 'NATS_CREDS')?.value, `/etc/busway/nats-creds/busway-${name}.creds`);
      assert.equal(secretOf(envOf(c, 'NATS_CREDS')?.value), 'busway-nats-creds');
    }
  });

  it('fences each worker with a NetworkPolicy: its conduits only, field ports for the ingest zone only', () => {
    const manifests = rendered.get('production') ?? [];
    type Rule = { ports?: { port: number | string; protocol: string }[]; to?: unknown[] };
    for (const w of workloads(manifests)) {
      const name = workerOf(w);
      const np = byKind(manifests, 'NetworkPolicy').find((p) => p.metadata.name === w.metadata.name);
      assert.ok(np, `${name} has a NetworkPolicy`);
      const egress = (np.spec as { egress: Rule[] }).egress;
      assert.ok(
        egress.every((r) => (r.ports ?? []).length > 0),
        `${name}: every egress rule names its ports`,
      );
      const ports = new Set(egress.flatMap((r) => (r.ports ?? []).map((p) => p.port)));
      const access = accessOf(name);
      assert.ok(ports.has(4222), `${name} reaches NATS`);
      assert.equal(ports.has(6379), access?.uses?.includes('redis') ?? false, `${name} Redis`);
      assert.equal(ports.has(1883), access?.uses?.includes('mqtt') ?? false, `${name} MQTT`);
      const field = egress.filter((r) => !r.to || r.to.some((p) => JSON.stringify(p).includes('ipBlock')));
      assert.equal(field.length > 0, (access?.fieldEgress ?? []).length > 0, `${name} field egress`);
      if (field.length > 0) assert.equal(access?.zone, 'ingest');
      for (const r of field) assert.match(JSON.stringify(r.to), /10\.40\.0\.0\/16/);
    }
  });

  it('provisions before install and upgrade, for exactly the enabled workers, with the provisioner user', () => {
    const manifests = rendered.get('production') ?? [];
    const job = byKind(manifests, 'Job')[0];
    assert.ok(job);
    assert.equal(job.metadata.annotations?.['helm.sh/hook'], 'pre-install,pre-upgrade');
    const c = (job.spec as { template: { spec: PodSpec } }).template.spec.containers[0] as Container;
    const workers = c.args?.[c.args.indexOf('--workers') + 1]?.split(',').sort();
    assert.deepEqual(workers, workloads(manifests).map(workerOf).sort());
    assert.equal(envOf(c, 'NATS_USER')?.value, 'busway-provisioner');
    assert.equal(envOf(c, 'BUSWAY_STREAM_REPLICAS')?.value, '3');
    const config = manifests.find((m) => m.kind === 'ConfigMap' && m.metadata.name.endsWith('-provision'));
    assert.ok(Number(config?.metadata.annotations?.['helm.sh/hook-weight']) < 0, 'its config exists first');
    assert.ok(existsSync(join(ROOT, 'deploy', 'docker', 'provision.mjs')), 'the script the Job runs exists');
  });

  it('renders the nats-server users of the enabled workers exactly as the generated file, and nats-server accepts them', () => {
    const manifests = rendered.get('production') ?? [];
    const cm = manifests.find((m) => m.metadata.name.endsWith('-nats-users'));
    const conf = cm?.data?.['busway-users.conf'] ?? '';
    const enabled = new Set(workloads(manifests).map(workerOf));
    const expected = renderNatsUsers(WORKER_ACCESS.filter((w) => enabled.has(w.worker)));
    // the chart lists its users in name order, the generator in table order: compare user by user
    assert.deepEqual(userBlocks(conf), userBlocks(expected));
    assert.equal(
      userBlocks(conf).size,
      enabled.size + 3,
      'the enabled workers, the provisioner, the CLI roles',
    );
    const dir = mkdtempSync(join(scratch, 'nats-'));
    writeFileSync(join(dir, 'busway-users.conf'), conf);
    writeFileSync(
      join(dir, 'server.conf'),
      `jetstream { store_dir: "${dir}/js" }\naccounts { BUSWAY { jetstream: enabled, include ./busway-users.conf } }\n`,
    );
    const others = nonWorkerUsers().map(([name]) => name);
    const env = Object.fromEntries([...enabled, ...others].map((w) => [passwordEnvOf(w), '"s3cret"']));
    const bin = process.env.BUSWAY_NATS_SERVER_BIN ?? '/usr/sbin/nats-server';
    const check = spawnSync(bin, ['-t', '-c', join(dir, 'server.conf')], {
      env: { ...process.env, ...env },
      encoding: 'utf8',
    });
    assert.equal(check.status, 0, check.stderr);
    assert.match(check.stderr + check.stdout, /configuration file .* is valid/);
  });

  it('builds the image in two stages and runs it as an unprivileged user with the CLI as entrypoint', () => {
    const dockerfile = readFileSync(join(ROOT, 'deploy', 'docker', 'Dockerfile'), 'utf8');
    const lines = dockerfile.split('\n').filter((l) => !l.startsWith('#'));
    const froms = lines.filter((l) => /^FROM /.test(l));
    assert.ok(froms.length >= 2, 'multi-stage');
    const last = lines.slice(lines.lastIndexOf(froms.at(-1) ?? ''));
    const user = last.find((l) => l.startsWith('USER '))?.split(/\s+/)[1] ?? 'root';
    assert.match(user, /^[1-9][0-9]*(:[1-9][0-9]*)?$/, 'a numeric, non-root user in the final stage');
    const entrypoint = JSON.parse(
      last.find((l) => l.startsWith('ENTRYPOINT '))?.slice(11) ?? '[]',
    ) as string[];
    assert.equal(entrypoint[0], 'node');
    assert.ok(
      existsSync(join(ROOT, (entrypoint[1] ?? '').replace(/^\/app\//, ''))),
      'the CLI entrypoint is built',
    );
    assert.ok(!last.some((l) => /npm (ci|install)/.test(l)), 'nothing is installed in the final stage');
  });
});
