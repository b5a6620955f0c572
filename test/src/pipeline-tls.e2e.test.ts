import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { findWorker, PIPELINE, Supervisor, summarize } from '@busway/cli';
import { busway, EventTypes, nowNs, Streams } from '@busway/proto';
import {
  fabricHeaders,
  loadConfig,
  PROVISIONER,
  runWorker,
  type RunningWorker,
  type WorkerRuntime,
} from '@busway/runtime';
import { buildSiteModel, SimulatorConfigSchema } from '@busway/simulator';
import { startMosquitto, startRedis, waitFor, type TestServer } from '@busway/testkit';
import { moduleOf } from './catalog.js';
import { STAGES, waitForEveryStage } from './pipeline-stages.js';
import { ROOT } from './helm.js';
import { startSecureNats, type SecureNats } from './secure-nats.js';
import { TestPki } from './tls-certs.js';

const run = promisify(execFile);
const SITE = 'ai1';

/** Runs the provisioning job's script as the provisioner user. */
async function provisionAs(
  nats: SecureNats,
  extraEnv: Record<string, string>,
  args: string[],
): Promise<void> {
  await run(process.execPath, [join(ROOT, 'deploy', 'docker', 'provision.mjs'), ...args], {
    env: {
      ...process.env,
      ...nats.envOf(PROVISIONER),
      BUSWAY_CONFIG: '',
      BUSWAY_LOG_LEVEL: 'warn',
      ...extraEnv,
    },
  });
}

/** What the server answers a client that speaks plain text: its INFO, then how it treats a plain CONNECT. */
async function plainTextAnswer(port: number): Promise<{ text: string; closedByServer: boolean }> {
  return new Promise((resolve, reject) => {
    const sock = tcpConnect(port, '127.0.0.1');
    let text = '';
    let closedByServer = false;
    sock.on('data', (d: Buffer) => {
      const first = text === '';
      text += d.toString();
      if (first) sock.write('CONNECT {"verbose":false,"user":"busway-normalizer"}\r\nPING\r\n');
    });
    sock.on('end', () => (closedByServer = true));
    sock.on('close', () => resolve({ text, closedByServer }));
    sock.on('error', reject);
    setTimeout(() => sock.destroy(), 5000);
  });
}

/** Connections the server holds: user and TLS version of each (monitoring endpoint). */
async function connections(nats: SecureNats): Promise<{ user: string; tls: string }[]> {
  const res = await fetch(`${nats.monitorUrl}/connz?auth=true&limit=1024`);
  const body = (await res.json()) as { connections?: { authorized_user?: string; tls_version?: string }[] };
  return (body.connections ?? []).map((c) => ({ user: c.authorized_user ?? '', tls: c.tls_version ?? '' }));
}

describe('the pipeline end to end over mutual TLS, each worker connected as its own least-privilege user', () => {
  let dir: string;
  let pki: TestPki;
  let nats: SecureNats;
  let redis: TestServer;
  let broker: TestServer;
  let sup: Supervisor;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'busway-tls-e2e-'));
    pki = new TestPki(dir);
    [nats, redis, broker] = await Promise.all([
      startSecureNats({ tls: { pki, verify: true } }),
      startRedis(),
      startMosquitto(),
    ]);
    const env = { ...process.env, BUSWAY_SITE: SITE, BUSWAY_CONFIG: '' };
    const siteModel = join(dir, 'site-model.json');
    writeFileSync(
      siteModel,
      JSON.stringify(buildSiteModel(loadConfig(SimulatorConfigSchema, { env, worker: 'simulator' }))),
    );
    await provisionAs(nats, { REDIS_URL: redis.url }, ['--site-model', siteModel]);
    sup = new Supervisor(
      {
        ...env,
        REDIS_URL: redis.url,
        MQTT_URL: broker.url,
        BUSWAY_LOG_LEVEL: 'info',
        // the provisioner made the streams and consumers: no worker user may
        BUSWAY_PROVISION: 'false',
        BUSWAY_API_PORT: '0', // the REST API on a free port: test files run side by side
      },
      join(dir, 'logs'),
    );
    for (const w of PIPELINE) await sup.start(w.name, nats.envOf(w.name));
    await sup.waitReady();
  });

  after(async () => {
    await sup?.stopAll(['simulator', ...PIPELINE.map((w) => w.name)]);
    await Promise.all([nats?.dispose(), redis?.dispose(), broker?.dispose()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('carries simulated samples through every stage, with every connection authenticated and encrypted', async () => {
    await sup.start('simulator', nats.envOf('simulator'));
    await sup.waitReady();
    await waitForEveryStage(sup);
    const counts = summarize(await sup.scrape(), 0);
    for (const stage of STAGES) {
      assert.ok(
        (counts.stages[stage]?.samplesOut ?? 0) > 0,
        `${stage} processed samples (${JSON.stringify(counts.stages[stage])})`,
      );
    }
    const held = await connections(nats);
    const expected = [...PIPELINE.map((w) => w.name), 'simulator'].map((w) => `busway-${w}`);
    for (const user of expected) {
      const own = held.filter((c) => c.user === user);
      assert.ok(own.length > 0, `${user} is connected as itself`);
      assert.ok(
        own.every((c) => /1\.[23]/.test(c.tls)),
        `${user} over TLS (${own.map((c) => c.tls).join()})`,
      );
    }
    assert.deepEqual(
      held.filter((c) => !c.tls).map((c) => c.user),
      [],
      'no plain-text connection',
    );
    const admin = await nats.connectAdmin();
    try {
      const dlq = await (await jetstreamManager(admin)).streams.info(Streams.DeadLetter.name);
      assert.equal(dlq.state.messages, 0, 'no worker dead-lettered anything: none hit a permission it lacks');
    } finally {
      await admin.close();
    }
  });

  it('refuses plain text, a client without a certificate and a certificate from another CA', async () => {
    const plain = await plainTextAnswer(nats.server.port);
    assert.match(plain.text, /"tls_required":true/);
    assert.doesNotMatch(plain.text, /PONG|\+OK/, 'a plain-text CONNECT gets no answer');
    assert.ok(plain.closedByServer, 'the server hangs up on plain text');
    await assert.rejects(nats.connectAs('normalizer', { NATS_TLS_CERT: '', NATS_TLS_KEY: '' }));
    const rogue = new TestPki(mkdtempSync(join(dir, 'rogue-')), 'rogue-ca').issue(
      'busway-normalizer',
      'client',
    );
    await assert.rejects(
      nats.connectAs('normalizer', { NATS_TLS_CERT: rogue.cert, NATS_TLS_KEY: rogue.key }),
    );
    // the right certificate with the wrong password: TLS alone is not the identity
    await assert.rejects(
      nats.connectAs('normalizer', { NATS_PASSWORD: nats.passwords.get('fanout') ?? '' }),
      /Authorization Violation/,
    );
  });
});

describe('a worker on a TLS-only server (no client certificates)', () => {
  let dir: string;
  let pki: TestPki;
  let nats: SecureNats;
  let redis: TestServer;
  let worker: { rt: WorkerRuntime; worker: RunningWorker } | undefined;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'busway-tls-only-'));
    pki = new TestPki(dir);
    [nats, redis] = await Promise.all([startSecureNats({ tls: { pki, verify: false } }), startRedis()]);
    await provisionAs(nats, {}, ['--workers', 'normalizer']);
  });

  after(async () => {
    await worker?.rt.stop();
    await Promise.all([nats?.dispose(), redis?.dispose()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('verifies the server against its CA, normalizes over TLS, and refuses a server it cannot verify', async () => {
    const entry = findWorker('normalizer');
    const mod = await moduleOf(entry);
    const env: Record<string, string> = {
      ...nats.envOf('normalizer'),
      REDIS_URL: redis.url,
      BUSWAY_SITE: SITE,
      BUSWAY_CONFIG: '',
      BUSWAY_PROVISION: 'false',
      BUSWAY_LOG_LEVEL: 'warn',
    };
    assert.equal(env.NATS_TLS_CERT, undefined, 'no client certificate');
    worker = await runWorker(mod, { env, signals: false });
    const admin = await nats.connectAdmin();
    try {
      const sample = {
        pointId: 'modbus:cdu-9:supply',
        doubleValue: 21.5,
        unit: 'degC',
        eventTimeNs: nowNs(),
        ingestTimeNs: nowNs(),
        source: { sourceId: 'cdu-9' },
      };
      await jetstream(admin).publish(
        'raw.v1.samples.modbus.cdu-9',
        busway.v1.SampleBatch.encode({ samples: [sample] }).finish(),
        {
          headers: fabricHeaders({ type: EventTypes.SampleBatch, source: '/test', id: 'tls-1' }),
          msgID: 'tls-1',
        },
      );
      const jsm = await jetstreamManager(admin);
      await waitFor(
        'the normalized sample',
        async () => (await jsm.streams.info('NORM')).state.messages > 0,
        20_000,
      );
      const held = await connections(nats);
      const own = held.filter((c) => c.user === 'busway-normalizer');
      assert.ok(own.length > 0 && own.every((c) => c.tls !== ''), 'the normalizer is connected over TLS');
    } finally {
      await admin.close();
    }
    // without the CA the server's certificate does not verify: no fallback to an unverified connection
    await assert.rejects(
      nats.connectAs('normalizer', { NATS_TLS_CA: '', NATS_URL: `tls://127.0.0.1:${nats.server.port}` }),
    );
  });
});
