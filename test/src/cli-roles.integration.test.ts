import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import { Streams } from '@busway/proto';
import {
  createLogger,
  ensureStream,
  fabricStreams,
  Hdr,
  OBSERVER,
  OPERATOR,
  publishDeadLetter,
} from '@busway/runtime';
import { ROOT } from './helm.js';
import { startSecureNats, type SecureNats } from './secure-nats.js';

const BIN = join(ROOT, 'packages', 'cli', 'dist', 'bin.js');
const ORIGIN = 'raw.v1.samples.modbus.plc-1';

describe('the CLI as the observer and operator users of the access table, on a nats-server with auth on', () => {
  let nats: SecureNats;
  let admin: NatsConnection;
  let jsm: JetStreamManager;
  const busway = (role: string, ...args: string[]) =>
    spawnSync(process.execPath, [BIN, ...args], {
      env: { ...process.env, ...nats.envOf(role), BUSWAY_CONFIG: '' },
      encoding: 'utf8',
      timeout: 60_000,
    });
  const deadLetters = async () =>
    (await jsm.streams.info(Streams.DeadLetter.name, { subjects_filter: 'dlq.v1.normalizer' })).state
      .messages;

  before(async () => {
    nats = await startSecureNats();
    admin = await nats.connectAdmin();
    jsm = await jetstreamManager(admin);
    for (const s of fabricStreams()) await ensureStream(jsm, s, createLogger('test', 'silent'));
    const h = headers();
    h.set(Hdr.Id, 'plc-1:42');
    await publishDeadLetter(jetstream(admin), 'normalizer', ORIGIN, new Uint8Array([1, 2, 3]), h, {
      code: 'unit-mismatch',
      message: 'kW on a temperature point',
    });
  });

  after(async () => {
    await admin?.close();
    await nats?.dispose();
  });

  it('lets the observer read the streams, consumers and dead letters', () => {
    const status = busway(OBSERVER, 'status', '--json');
    assert.equal(status.status, 0, status.stderr);
    const report = JSON.parse(status.stdout) as {
      streams: { name: string }[];
      deadLetters: Record<string, number>;
    };
    assert.deepEqual(
      report.streams.map((s) => s.name).sort(),
      fabricStreams()
        .map((s) => s.name)
        .sort(),
    );
    assert.equal(report.deadLetters.normalizer, 1);
    const dlq = busway(OBSERVER, 'dlq', 'normalizer', '--json');
    assert.equal(dlq.status, 0, dlq.stderr);
    const letters = dlq.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { code: string; origin: string });
    assert.deepEqual(
      letters.map((l) => [l.code, l.origin]),
      [['unit-mismatch', ORIGIN]],
    );
  });

  it('lets the observer tail a fabric subject', async () => {
    const child = spawn(process.execPath, [BIN, 'tail', 'uns.v1.>', '--count', '1', '--json'], {
      env: { ...process.env, ...nats.envOf(OBSERVER), BUSWAY_CONFIG: '' },
    });
    let out = '';
    let errOut = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (errOut += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    // the tail subscribes some time after it starts: publish until it has printed one
    let code: number | null | undefined;
    for (let i = 0; i < 300 && code === undefined; i++) {
      admin.publish('uns.v1.ai1.h1.r1.rack-1.pdu-1.power', new Uint8Array([9]));
      code = await Promise.race([exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), 100))]);
    }
    if (code === undefined) child.kill();
    assert.equal(code, 0, errOut);
    assert.match(out, /uns\.v1\.ai1\.h1\.r1\.rack-1\.pdu-1\.power/);
  });

  it('refuses the observer a redrive, naming the user it needs, and leaves the dead letter', async () => {
    const r = busway(OBSERVER, 'redrive', 'normalizer');
    assert.equal(r.status, 1, r.stdout);
    assert.match(r.stderr, /Permissions Violation/);
    assert.match(r.stderr, /busway redrive runs as busway-operator/);
    assert.equal(await deadLetters(), 1);
  });

  it('lets the operator send the dead letter back to its origin and remove it from the DLQ', async () => {
    const r = busway(OPERATOR, 'redrive', 'normalizer');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /sent back 1 dead letter of normalizer/);
    assert.equal(await deadLetters(), 0);
    const back = await jsm.streams.getMessage(Streams.Raw.name, { last_by_subj: ORIGIN });
    assert.deepEqual([...(back?.data ?? [])], [1, 2, 3]);
    assert.match(back?.header.get(Hdr.Id) ?? '', /^plc-1:42~redrive:normalizer:\d+$/);
  });
});
