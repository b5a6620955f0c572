import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import mqtt from 'mqtt';
import { newClient, type ISparkplugClientOptions } from 'sparkplug-client';
import { busway, org, Long } from '@busway/proto';
import { runWorker, type WorkerRuntime } from '@busway/runtime';
import { startMosquitto, startNats, waitFor, type TestServer } from '@busway/testkit';
import { ingestSparkplugModule, sparkplugDecodeModule } from './index.js';

type TahuClient = ReturnType<typeof newClient>;
type TahuPayload = Parameters<TahuClient['publishNodeBirth']>[0];

const T0 = 1_800_000_000_000;
// every scalar datatype, a DataSet and a Template instance, with the values the bridge must reproduce
const NODE_METRICS = [
  { name: 'int8', type: 'Int8', value: -5 },
  { name: 'int16', type: 'Int16', value: -300 },
  { name: 'int32', type: 'Int32', value: -70000 },
  { name: 'int64', type: 'Int64', value: -5_000_000_000 },
  { name: 'uint8', type: 'UInt8', value: 250 },
  { name: 'uint16', type: 'UInt16', value: 65000 },
  { name: 'uint32', type: 'UInt32', value: 4_000_000_000 },
  { name: 'uint64', type: 'UInt64', value: 9_000_000_000 },
  { name: 'float', type: 'Float', value: 1.5 },
  { name: 'double', type: 'Double', value: 2.25 },
  { name: 'bool', type: 'Boolean', value: true },
  { name: 'string', type: 'String', value: 'hello' },
  { name: 'datetime', type: 'DateTime', value: T0 },
  { name: 'text', type: 'Text', value: 'long text' },
  { name: 'uuid', type: 'UUID', value: '123e4567-e89b-12d3-a456-426614174000' },
  {
    name: 'pumps',
    type: 'DataSet',
    value: {
      numOfColumns: 2,
      types: ['String', 'Double'],
      columns: ['id', 'speed'],
      rows: [
        ['p1', 1450.5],
        ['p2', 1390],
      ],
    },
  },
  {
    name: 'cdu',
    type: 'Template',
    value: {
      isDefinition: false,
      templateRef: 'CduType',
      metrics: [
        { name: 'supply', type: 'Double', value: 30.5 },
        { name: 'running', type: 'Boolean', value: true },
      ],
      parameters: [],
    },
  },
];

/** The value of a raw sample as a plain JS value, for comparison with what Tahu sent. */
const valueOf = (s: busway.v1.ISample) =>
  s.doubleValue ??
  (s.intValue != null ? Number(s.intValue.toString()) : undefined) ??
  s.boolValue ??
  s.stringValue;

describe('Sparkplug interop: Eclipse Tahu edge node (sparkplug-client) → Mosquitto → bridge → decode stage', () => {
  let nats: TestServer;
  let broker: TestServer;
  let bridge: WorkerRuntime;
  /** The decode stage's runtime: its samples on RAW, its rebirth requests. */
  let rt: WorkerRuntime;
  let tahu: TahuClient;
  let births = 0;

  const raw = async () => {
    const info = await rt.jsm.streams.info('RAW');
    const out: busway.v1.ISample[] = [];
    for (let seq = info.state.first_seq; info.state.messages > 0 && seq <= info.state.last_seq; seq++) {
      const m = await rt.jsm.streams.getMessage('RAW', { seq });
      if (m) out.push(...busway.v1.SampleBatch.decode(m.data).samples);
    }
    return out;
  };
  const lastOf = (all: busway.v1.ISample[], name: string) =>
    all.filter((s) => s.pointId === `sparkplug:tahu/edge1:${name}`).at(-1);

  before(async () => {
    [nats, broker] = await Promise.all([startNats(), startMosquitto()]);
    const env = {
      NATS_URL: nats.url,
      MQTT_URL: broker.url,
      BUSWAY_LOG_LEVEL: 'silent',
      BUSWAY_REBIRTH_INTERVAL_MS: '100',
    };
    // the host is two workers: the bridge (MQTT → AUDIT) and the decode stage (AUDIT → RAW, rebirth requests)
    ({ rt: bridge } = await runWorker(ingestSparkplugModule, {
      env: { ...env, BUSWAY_MQTT_CLIENT_ID: `tahu-it-${process.pid}` },
      signals: false,
    }));
    ({ rt } = await runWorker(sparkplugDecodeModule, {
      env: { ...env, BUSWAY_MQTT_CLIENT_ID: `tahu-it-dec-${process.pid}` },
      signals: false,
    }));
    const config: ISparkplugClientOptions = {
      serverUrl: broker.url,
      username: '',
      password: '',
      groupId: 'tahu',
      edgeNode: 'edge1',
      clientId: `tahu-edge-${process.pid}`,
      version: 'spBv1.0',
      publishDeath: true,
    };
    tahu = newClient(config);
    // Tahu asks for births on connect and the host asks through NCMD: both answer with a full NBIRTH
    const birth = () => {
      births++;
      // a copy: Tahu appends its bdSeq metric to the array it is given
      tahu.publishNodeBirth({ timestamp: T0, metrics: NODE_METRICS.map((m) => ({ ...m })) } as TahuPayload);
    };
    tahu.on('birth', birth);
    tahu.on('ncmd', (p) => {
      if (p.metrics?.some((m) => m.name === 'Node Control/Rebirth' && m.value === true)) birth();
    });
    await waitFor('the Tahu NBIRTH on RAW', async () => (await raw()).length >= 1);
  });
  after(async () => {
    tahu?.stop();
    await bridge?.stop();
    await rt?.stop();
    await Promise.all([nats?.dispose(), broker?.dispose()]);
  });

  it('reproduces every scalar datatype, DataSet cell and Template member of the birth', async () => {
    const all = await waitFor('every birth metric', async () => {
      const s = await raw();
      return lastOf(s, 'cdu/running') ? s : undefined;
    });
    for (const m of NODE_METRICS.filter((x) => typeof x.value !== 'object')) {
      const s = lastOf(all, m.name);
      const expected = m.type === 'Float' ? Math.fround(m.value as number) : m.value;
      assert.equal(valueOf(s ?? {}), expected, `${m.name} (${m.type})`);
    }
    assert.equal(lastOf(all, 'pumps/0/id')?.stringValue, 'p1');
    assert.equal(lastOf(all, 'pumps/1/speed')?.doubleValue, 1390);
    assert.equal(lastOf(all, 'cdu/supply')?.doubleValue, 30.5);
    assert.equal(lastOf(all, 'cdu/running')?.boolValue, true);
    assert.equal(lastOf(all, 'int8')?.eventTimeNs?.toString(), (BigInt(T0) * 1_000_000n).toString());
  });

  it('reads data messages, DEFLATE- and GZIP-compressed ones too', async () => {
    tahu.publishNodeData({ timestamp: T0 + 1000, metrics: [{ name: 'double', type: 'Double', value: 3.5 }] });
    tahu.publishNodeData(
      { timestamp: T0 + 2000, metrics: [{ name: 'int32', type: 'Int32', value: 42 }] },
      { compress: true },
    );
    tahu.publishNodeData(
      { timestamp: T0 + 3000, metrics: [{ name: 'string', type: 'String', value: 'zipped' }] },
      { compress: true, algorithm: 'GZIP' },
    );
    const all = await waitFor('the three data messages', async () => {
      const s = await raw();
      return lastOf(s, 'string')?.stringValue === 'zipped' ? s : undefined;
    });
    assert.equal(lastOf(all, 'double')?.doubleValue, 3.5);
    assert.equal(lastOf(all, 'int32')?.intValue?.toString(), '42');
  });

  it('asks a node with an unknown alias to rebirth, and the node answers with a full birth', async () => {
    const before = births;
    const edge = await mqtt.connectAsync(broker.url);
    const orphan = org.eclipse.tahu.protobuf.Payload.encode({
      timestamp: Long.fromNumber(T0 + 4000, true),
      seq: Long.fromNumber(200, true),
      metrics: [{ alias: Long.fromNumber(77, true), datatype: 10, doubleValue: 1 }],
    }).finish();
    await edge.publishAsync('spBv1.0/tahu/NDATA/edge1', Buffer.from(orphan), { qos: 1 });
    await edge.endAsync();
    await waitFor('the rebirth', async () => births > before);
    assert.equal(await rt.metrics.value('busway_messages_total', { outcome: 'rebirth-requested' }), 1);
  });

  it('marks every metric of the node stale when the node dies', async () => {
    tahu.stop(); // publishDeath: an NDEATH with the bdSeq of its birth
    const all = await waitFor('the stale samples', async () => {
      const s = await raw();
      return s.some((x) => x.flags?.includes('death')) ? s : undefined;
    });
    const stale = all.filter((x) => x.flags?.includes('death'));
    assert.ok(stale.every((x) => x.quality === busway.v1.Quality.QUALITY_STALE));
    for (const name of ['int8', 'double', 'pumps/0/id', 'cdu/supply'])
      assert.ok(
        stale.some((x) => x.pointId === `sparkplug:tahu/edge1:${name}`),
        `${name} is stale`,
      );
  });
});
