import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import { CATALOG } from '@busway/cli';
import { Streams } from '@busway/proto';
import {
  accessOf,
  Hdr,
  loadConfig,
  publishDeadLetter,
  PROVISIONER,
  WORKER_ACCESS,
  usersOf,
  type NatsPermissions,
} from '@busway/runtime';
import { moduleOf } from './catalog.js';
import { ROOT } from './helm.js';
import { startSecureNats, type SecureNats } from './secure-nats.js';
import { concrete, matches } from './subjects.js';

const run = promisify(execFile);

/** Every user and what the table lets it do: workers, the provisioner, the CLI's observer and operator. */
const USERS: [string, NatsPermissions][] = usersOf();

/** Subjects no worker needs: stream administration, reads that bypass a consumer, the system account. */
const SENSITIVE = [
  '$JS.API.STREAM.DELETE.RAW',
  '$JS.API.STREAM.PURGE.NORM',
  '$JS.API.STREAM.UPDATE.ORDERED',
  '$JS.API.STREAM.MSG.GET.INCIDENTS',
  '$JS.API.STREAM.MSG.DELETE.DLQ',
  '$JS.API.STREAM.NAMES',
  '$JS.API.CONSUMER.CREATE.RAW.intruder',
  '$JS.API.CONSUMER.DELETE.NORM.correlator',
  '$JS.API.CONSUMER.MSG.NEXT.ANOMALIES.intruder',
  '$SYS.REQ.SERVER.PING',
  'events.v1.intruder',
  'intruder',
];

/** The durable consumers a worker reads, as its module declares them with its default configuration. */
async function consumersOf(worker: string): Promise<{ stream: string; durable: string }[]> {
  const entry = CATALOG.find((w) => w.name === worker);
  if (!entry || (accessOf(worker)?.consume ?? []).length === 0) return [];
  const mod = await moduleOf(entry);
  return mod.consumers(loadConfig(mod.configSchema, { env: { BUSWAY_CONFIG: '' }, worker }));
}

/** Publishes every probe subject, then reports which ones the server refused (permission violations). */
async function refusedPublishes(nc: NatsConnection, subjects: string[]): Promise<Set<string>> {
  const refused = new Set<string>();
  const watching = (async () => {
    for await (const s of nc.status()) {
      if (s.type !== 'error') continue;
      const err = s.error as { operation?: string; subject?: string };
      if (err.operation === 'publish' && err.subject) refused.add(err.subject);
    }
  })();
  for (const subject of subjects) nc.publish(subject, new Uint8Array(0));
  await nc.flush(); // the server answers in order: every -ERR comes before the flush's PONG
  await new Promise((r) => setImmediate(r));
  void watching;
  return refused;
}

async function refusedSubscriptions(nc: NatsConnection, subjects: string[]): Promise<Set<string>> {
  const subs = subjects.map((s) => ({ s, sub: nc.subscribe(s) }));
  await nc.flush();
  const refused = new Set<string>();
  await Promise.all(
    subs.map(async ({ s, sub }) => {
      // a refused subscription is closed by the server with the violation; an accepted one stays open
      const closed = await Promise.race([sub.closed, new Promise((r) => setTimeout(() => r('open'), 300))]);
      if (closed instanceof Error && /Permissions Violation/.test(closed.message)) refused.add(s);
      else sub.unsubscribe();
    }),
  );
  return refused;
}

describe('least-privilege NATS users from the access table, on a real nats-server with auth on', () => {
  let nats: SecureNats;
  let admin: NatsConnection;
  let jsm: JetStreamManager;

  before(async () => {
    nats = await startSecureNats();
    admin = await nats.connectAdmin();
    jsm = await jetstreamManager(admin);
  });

  after(async () => {
    await admin?.close();
    await nats?.dispose();
  });

  it('provisions every stream and consumer as the provisioner, which can neither delete, purge nor read them', async () => {
    // the workers that read durable consumers (loading every module, OPC UA's included, takes seconds)
    const readers = WORKER_ACCESS.filter((a) => (a.consume ?? []).length > 0).map((a) => a.worker);
    const { stdout } = await run(
      process.execPath,
      [join(ROOT, 'deploy', 'docker', 'provision.mjs'), '--workers', readers.join(',')],
      { env: { ...process.env, ...nats.envOf(PROVISIONER), BUSWAY_CONFIG: '', BUSWAY_LOG_LEVEL: 'warn' } },
    );
    const line = stdout.split('\n').find((l) => l.startsWith('{"streams"')) ?? '{}';
    const result = JSON.parse(line) as { streams: number; consumers: number };
    assert.equal(result.streams, Object.keys(Streams).length);
    const streams = new Set<string>();
    for await (const name of jsm.streams.names()) streams.add(name);
    for (const { name } of Object.values(Streams)) assert.ok(streams.has(name), `stream ${name}`);
    for (const a of WORKER_ACCESS) {
      for (const c of await consumersOf(a.worker)) {
        const info = await jsm.consumers.info(c.stream, c.durable);
        assert.equal(info.name, c.durable);
      }
    }
    const nc = await nats.connectAs(PROVISIONER);
    try {
      const own = await jetstreamManager(nc);
      await assert.rejects(own.streams.delete(Streams.Raw.name), /Permissions Violation/);
      await assert.rejects(own.streams.purge(Streams.Norm.name), /Permissions Violation/);
      await assert.rejects(own.streams.getMessage(Streams.Raw.name, { seq: 1 }), /Permissions Violation/);
      await assert.rejects(jetstream(nc).publish('raw.v1.samples.modbus.x', 'x'), /Permissions Violation/);
    } finally {
      await nc.close();
    }
  });

  it('lets each worker publish (PubAck), dead-letter, pull and acknowledge what its entry names', async () => {
    // every KV bucket exists before any worker reads another's (the API reads the command worker's records)
    for (const bucket of WORKER_ACCESS.flatMap((a) => a.kv ?? []))
      await new Kvm(jetstream(admin)).create(bucket, { history: 1 });
    for (const access of WORKER_ACCESS) {
      const nc = await nats.connectAs(access.worker);
      try {
        const js = jetstream(nc);
        for (const pattern of access.publish) {
          const subject = concrete(pattern);
          const stream = Object.values(Streams).find((s) => s.subjects.some((p) => matches(p, subject)));
          if (stream) {
            const ack = await js.publish(subject, new Uint8Array([1]));
            assert.equal(ack.stream, stream.name, `${access.worker} stores ${subject}`);
          } else {
            nc.publish(subject, new Uint8Array([1]));
            await nc.flush();
          }
        }
        await publishDeadLetter(js, access.worker, 'probe', new Uint8Array([1]), headers(), {
          code: 'probe',
          message: 'permission test',
        });
        for (const c of await consumersOf(access.worker)) {
          const filter = (await jsm.consumers.info(c.stream, c.durable)).config.filter_subject ?? '>';
          await jetstream(admin).publish(concrete(filter, `probe-${access.worker}`), new Uint8Array([2]));
          const consumer = await js.consumers.get(c.stream, c.durable);
          const batch = await consumer.fetch({ max_messages: 1, expires: 2000 });
          let acked = 0;
          for await (const m of batch) {
            assert.ok(await m.ackAck(), `${access.worker} acknowledges on ${c.stream}/${c.durable}`);
            acked++;
          }
          assert.equal(acked, 1, `${access.worker} pulled from ${c.stream}/${c.durable}`);
        }
        for (const stream of access.manage ?? []) {
          // a partition owner rewinds its input: delete its durable and create it again
          const own = await jetstreamManager(nc);
          for (const c of (await consumersOf(access.worker)).filter((x) => x.stream === stream)) {
            const { config } = await jsm.consumers.info(stream, c.durable);
            await own.consumers.delete(stream, c.durable);
            await own.consumers.add(stream, config);
            assert.equal(
              (await jsm.consumers.info(stream, c.durable)).name,
              c.durable,
              `${access.worker} rewinds`,
            );
          }
        }
        for (const stream of access.read ?? []) {
          const ordered = await js.consumers.get(stream);
          const messages = await ordered.fetch({ max_messages: 1, expires: 1000 });
          for await (const m of messages) assert.equal(m.info.stream, stream);
          assert.equal((await ordered.info(true)).stream_name, stream, `${access.worker} reads ${stream}`);
        }
        for (const bucket of access.kv ?? []) {
          const kv = await new Kvm(js).create(bucket, { history: 1 });
          await kv.put('probe', 'birth');
          assert.equal((await kv.get('probe'))?.string(), 'birth');
          const keys: string[] = [];
          for await (const k of await kv.keys()) keys.push(k);
          assert.deepEqual(keys, ['probe']);
        }
      } finally {
        await nc.close();
      }
    }
    for (const access of WORKER_ACCESS) {
      const letter = await jsm.streams.getMessage(Streams.DeadLetter.name, {
        last_by_subj: `dlq.v1.${access.worker}`,
      });
      assert.equal(letter?.header.get(Hdr.DlqCode), 'probe', `${access.worker} dead-letters`);
    }
  });

  it('refuses every publish outside a user’s allow list and accepts every one inside it', async () => {
    const probes = [
      ...new Set([...USERS.flatMap(([, p]) => p.publish.map((s) => concrete(s))), ...SENSITIVE]),
    ];
    for (const [name, permissions] of USERS) {
      const nc = await nats.connectAs(name);
      try {
        const refused = await refusedPublishes(nc, probes);
        const expected = probes.filter((s) => !permissions.publish.some((p) => matches(p, s)));
        assert.deepEqual([...refused].sort(), expected.sort(), `${name}: refused publishes`);
        assert.ok(refused.size > 10, `${name} is refused most of the fabric`);
      } finally {
        await nc.close();
      }
    }
  });

  it('refuses every subscription but a user’s own inbox: no one reads another’s replies or the fabric directly', async () => {
    const probes = [
      ...USERS.map(([name]) => `_INBOX.${name}.>`),
      '_INBOX.>',
      '>',
      'raw.v1.>',
      'uns.v1.>',
      'dlq.v1.>',
      '$JS.API.>',
    ];
    for (const [name, permissions] of USERS) {
      const nc = await nats.connectAs(name);
      try {
        const refused = await refusedSubscriptions(nc, probes);
        // its inbox, and the core subscriptions its entry declares (the API's live UNS stream, command readbacks,
        // the observer's fabric subjects for `busway tail`)
        assert.ok(permissions.subscribe.includes(`_INBOX.${name}.>`), `${name} has its own inbox`);
        assert.deepEqual(
          probes.filter((p) => !refused.has(p)),
          probes.filter((p) => permissions.subscribe.includes(p)),
          `${name} may subscribe to its own inbox and its declared subjects only`,
        );
      } finally {
        await nc.close();
      }
    }
  });

  it('refuses a worker that presents another worker’s password', async () => {
    await assert.rejects(
      nats.connectAs('normalizer', { NATS_PASSWORD: nats.passwords.get('fanout') ?? '' }),
      /Authorization Violation/,
    );
  });
});
