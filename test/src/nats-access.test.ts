import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CATALOG, WORKERS } from '@busway/cli';
import { Streams } from '@busway/proto';
import {
  ConfigError,
  RuntimeConfigSchema,
  WORKER_ACCESS,
  inboxPrefixOf,
  loadConfig,
  natsOptionsOf,
  natsPermissionsOf,
  natsSecurityOptions,
  provisionerPermissions,
  renderChartAccess,
  renderNatsUsers,
  renderNscScript,
  usersOf,
} from '@busway/runtime';
import { moduleOf } from './catalog.js';
import { ROOT } from './helm.js';
import { matches } from './subjects.js';

const GENERATED: Record<string, () => string> = {
  'deploy/nats/busway-users.conf': () => renderNatsUsers(),
  'deploy/nats/nsc-users.sh': () => renderNscScript(),
  'deploy/helm/busway/files/access.yaml': () => renderChartAccess(),
};

const configOf = (env: Record<string, string>) =>
  loadConfig(RuntimeConfigSchema, { env: { BUSWAY_CONFIG: '', ...env } });

describe('the NATS access table (packages/runtime/src/nats-access.ts)', () => {
  it('matches every generated file: run `node deploy/nats/generate.mjs` after changing the table', () => {
    for (const [path, render] of Object.entries(GENERATED)) {
      const committed = readFileSync(join(ROOT, path), 'utf8').split('\n');
      const current = render().split('\n');
      const line = current.findIndex((l, i) => l !== committed[i]);
      const at = line === -1 && committed.length !== current.length ? current.length : line;
      assert.equal(
        at,
        -1,
        `${path} is stale from line ${at + 1} ('${current[at] ?? ''}' expected, '${committed[at] ?? ''}' found): ` +
          'run `npx tsc -b packages/runtime && node deploy/nats/generate.mjs`',
      );
    }
  });

  it('has an entry for every worker the CLI can run, and none for a worker that does not exist', () => {
    const table = WORKER_ACCESS.map((a) => a.worker);
    const missing = CATALOG.map((w) => w.name).filter((w) => !table.includes(w));
    assert.deepEqual(missing, [], `add an entry to WORKER_ACCESS for: ${missing.join(', ')}`);
    // a worker whose service exists may precede its place in the CLI's catalog
    const unknown = table.filter(
      (w) => !CATALOG.some((c) => c.name === w) && !existsSync(join(ROOT, 'services', w)),
    );
    assert.deepEqual(unknown, []);
  });

  it('lists the durable consumers each worker reads, by its default configuration', async () => {
    for (const entry of WORKERS) {
      const mod = await moduleOf(entry);
      const config = loadConfig(mod.configSchema, { env: { BUSWAY_CONFIG: '' }, worker: mod.name });
      const fromCode = mod.consumers(config);
      const table = WORKER_ACCESS.find((a) => a.worker === mod.name)?.consume ?? [];
      // `*` names a family of durables (partitions); every other entry is one durable the code reads
      const covered = (c: { stream: string; durable: string }) =>
        table.some((t) => t.stream === c.stream && (t.durable === '*' || t.durable === c.durable));
      assert.deepEqual(
        fromCode.filter((c) => !covered(c)).map((c) => `${c.stream}/${c.durable}`),
        [],
        `${mod.name} reads consumers its entry does not name`,
      );
      const named = table.filter((t) => t.durable !== '*').map((t) => `${t.stream}/${t.durable}`);
      const read = fromCode.map((c) => `${c.stream}/${c.durable}`);
      assert.deepEqual(
        named.filter((n) => !read.includes(n)),
        [],
        `${mod.name}: its entry names consumers it does not read`,
      );
    }
  });

  it('gives no worker a wildcard beyond its own subjects, stream administration, or another inbox', () => {
    const forbidden = [
      '>',
      '$JS.API.>',
      '$JS.API.STREAM.DELETE.RAW',
      '$JS.API.STREAM.PURGE.RAW',
      '$JS.API.STREAM.UPDATE.RAW',
      '$JS.API.STREAM.MSG.GET.NORM',
      '$JS.API.CONSUMER.CREATE.RAW.evil',
      '$JS.API.CONSUMER.DELETE.RAW.normalizer',
      '$SYS.REQ.SERVER.PING',
    ];
    for (const access of WORKER_ACCESS) {
      const { publish, subscribe } = natsPermissionsOf(access);
      for (const subject of forbidden) {
        assert.ok(!publish.some((p) => matches(p, subject)), `${access.worker} may not publish ${subject}`);
      }
      for (const other of WORKER_ACCESS.filter((o) => o.worker !== access.worker)) {
        assert.ok(
          !publish.some((p) => matches(p, `dlq.v1.${other.worker}`)),
          `${access.worker} may not write ${other.worker}'s dead letters`,
        );
        assert.ok(
          !subscribe.some((p) => matches(p, `${inboxPrefixOf(other.worker)}.x`)),
          `${access.worker} may not read ${other.worker}'s replies`,
        );
      }
      // its inbox, and the core subscriptions its entry declares (the API's live stream of UNS patterns)
      assert.deepEqual(
        [...subscribe].sort(),
        [`${inboxPrefixOf(access.worker)}.>`, ...(access.subscribe ?? [])].sort(),
        `${access.worker} subscribes its inbox and its declared subjects only`,
      );
    }
  });

  it('keeps the zones apart: ingest writes raw and audit only, nothing downstream writes raw', () => {
    for (const access of WORKER_ACCESS) {
      const data = access.publish;
      if (access.zone === 'ingest') {
        assert.ok(
          data.every((s) =>
            /^((raw\.v1\.samples|audit\.v1)\.[a-z0-9-]+\.>|raw\.v1\.events\.([a-z0-9-]+|>))$/.test(s),
          ),
          `${access.worker}: ${data.join(', ')}`,
        );
      } else {
        assert.ok(
          !data.some((s) => matches(s, 'raw.v1.samples.x.y') || matches(s, 'audit.v1.x.y')),
          access.worker,
        );
      }
    }
    const norm = WORKER_ACCESS.filter((a) => a.publish.some((s) => matches(s, 'norm.v1.samples.a.b.c.d')));
    assert.deepEqual(
      norm.map((a) => a.worker),
      ['normalizer'],
    );
  });

  it('lists no subject that another entry of the same user already covers (each list as short as it can be)', () => {
    for (const [user, { publish, subscribe }] of usersOf()) {
      for (const list of [publish, subscribe]) {
        const covered = list.filter((s, i) => list.some((p, j) => j !== i && matches(p, s)));
        assert.deepEqual(covered, [], `${user}: ${covered.join(', ')} already allowed by a wider entry`);
      }
    }
  });

  it('lets the provisioner create and update every stream and its consumers, and nothing else', () => {
    const { publish } = provisionerPermissions();
    for (const { name } of Object.values(Streams)) {
      for (const op of ['CREATE', 'UPDATE', 'INFO']) {
        assert.ok(
          publish.some((p) => matches(p, `$JS.API.STREAM.${op}.${name}`)),
          `${op} ${name}`,
        );
      }
      assert.ok(publish.some((p) => matches(p, `$JS.API.CONSUMER.CREATE.${name}.d.filter.>`)));
      for (const op of ['DELETE', 'PURGE', 'MSG.GET', 'MSG.DELETE']) {
        assert.ok(!publish.some((p) => matches(p, `$JS.API.STREAM.${op}.${name}`)), `no ${op} ${name}`);
      }
    }
    assert.ok(!publish.some((p) => matches(p, 'raw.v1.samples.x.y')), 'it writes no data');
  });
});

describe('a worker’s NATS connection options', () => {
  it('uses an inbox of its own and carries user and password when set', () => {
    const opts = natsOptionsOf(
      configOf({ NATS_USER: 'busway-normalizer', NATS_PASSWORD: 'pw' }),
      'normalizer',
    );
    assert.equal(opts.inboxPrefix, '_INBOX.normalizer');
    assert.equal(opts.name, 'busway-normalizer');
    assert.deepEqual(natsSecurityOptions(opts), {
      user: 'busway-normalizer',
      pass: 'pw',
      inboxPrefix: '_INBOX.normalizer',
    });
    assert.equal(opts.tls, undefined, 'no TLS options: plain text unless the server offers TLS');
  });

  it('requires TLS once a CA, a client certificate or a tls:// URL is configured', () => {
    const ca = natsOptionsOf(configOf({ NATS_TLS_CA: '/ca.pem' }), 'fanout');
    assert.deepEqual(natsSecurityOptions(ca).tls, { caFile: '/ca.pem' });
    const mutual = natsOptionsOf(
      configOf({ NATS_TLS_CA: '/ca.pem', NATS_TLS_CERT: '/c.pem', NATS_TLS_KEY: '/k.pem' }),
      'fanout',
    );
    assert.deepEqual(natsSecurityOptions(mutual).tls, {
      caFile: '/ca.pem',
      certFile: '/c.pem',
      keyFile: '/k.pem',
    });
    const url = natsOptionsOf(configOf({ NATS_URL: 'tls://nats:4222' }), 'fanout');
    assert.deepEqual(natsSecurityOptions(url).tls, {});
  });

  it('fails fast, naming the keys, on a certificate without its key or a password without a user', () => {
    assert.throws(
      () => natsOptionsOf(configOf({ NATS_TLS_CERT: '/c.pem' }), 'anomaly'),
      (err: unknown) =>
        err instanceof ConfigError && /NATS_TLS_CERT/.test(err.message) && /NATS_TLS_KEY/.test(err.message),
    );
    assert.throws(
      () => natsOptionsOf(configOf({ NATS_PASSWORD: 'pw' }), 'anomaly'),
      (err: unknown) => err instanceof ConfigError && /NATS_USER/.test(err.message),
    );
    assert.throws(() => configOf({ BUSWAY_NATS_INBOX_PREFIX: '_INBOX.>' }), /BUSWAY_NATS_INBOX_PREFIX/);
  });

  it('reads BUSWAY_PROVISION=false as false, and provisions by default', () => {
    assert.equal(configOf({}).provision, true);
    assert.equal(configOf({ BUSWAY_PROVISION: 'false' }).provision, false);
  });
});
