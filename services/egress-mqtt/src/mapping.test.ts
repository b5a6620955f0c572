import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Ajv } from 'ajv';
import fc from 'fast-check';
import { parse } from 'yaml';
import { busway, EventTypes, Long, Metrics, metricTokens, token, unsSubject } from '@busway/proto';
import { ContractViolation, DecodeError, fabricHeaders } from '@busway/runtime';
import { MappingSchema } from './config.js';
import { DEFAULT_OBJECT_TYPES } from './dsx.js';
import { TopicMapper } from './mapping.js';
import { fillTemplate, unsTopic } from './topics.js';

// The contract itself: the value payload schema and the point types each object type's Value channel allows.
const contract = parse(readFileSync(new URL('../fixtures/bms.yaml', import.meta.url), 'utf8')) as {
  channels: Record<string, { address: string; parameters?: { pointType?: { enum?: string[] } } }>;
  components: { messages: { ValueMessage: { payload: object } } };
};
const validateValue = new Ajv({ strict: false }).compile(contract.components.messages.ValueMessage.payload);
const valuePointTypes = new Map<string, string[]>();
for (const ch of Object.values(contract.channels)) {
  const m = /^BMS\/v1\/PUB\/Value\/([A-Za-z]+)\/\{pointType\}/.exec(ch.address);
  if (m) valuePointTypes.set(m[1] as string, ch.parameters?.pointType?.enum ?? []);
}

const tok = fc.stringMatching(/^[a-z0-9_-]{1,10}$/);
const rawName = fc.string({ minLength: 0, maxLength: 12 });
const pathArb = fc.record({
  site: rawName,
  hall: rawName,
  row: rawName,
  rack: rawName,
  assetClass: rawName,
  asset: rawName,
});
const metricArb = fc.oneof(
  fc.constantFrom(...Object.keys(Metrics)),
  fc.stringMatching(/^[a-z]{1,6}(\.[a-z0-9-]{1,6}){0,3}$/),
);
const valueArb = fc.oneof(
  fc.record({ doubleValue: fc.double() }),
  fc.record({ intValue: fc.integer().map((i) => Long.fromNumber(i)) }),
  fc.record({ boolValue: fc.boolean() }),
  fc.record({ stringValue: fc.string({ maxLength: 8 }) }),
);
const sampleArb = (path: fc.Arbitrary<busway.v1.IUnsPath>) =>
  fc
    .tuple(
      path,
      metricArb,
      valueArb,
      fc.integer({ min: 0, max: 4 }),
      fc.integer({ min: 0, max: 4_000_000_000_000 }),
    )
    .map(
      ([p, metric, v, quality, ms]): busway.v1.ISample & {
        path: busway.v1.IUnsPath;
        metric: string;
        quality: number;
        eventTimeNs: Long;
      } => ({
        pointId: 'p:x',
        path: p,
        metric,
        unit: 'W',
        quality,
        eventTimeNs: Long.fromString(`${ms}000000`, true),
        ...v,
      }),
    );
const unsMessage = (s: busway.v1.ISample) => ({
  subject: unsSubject(s.path ?? {}, s.metric ?? ''),
  data: busway.v1.SampleBatch.encode({ samples: [s] }).finish(),
  headers: fabricHeaders({ type: EventTypes.SampleBatch, source: '/busway/fanout', id: 'x' }),
});
const mapper = (raw: Record<string, unknown>) =>
  new TopicMapper(MappingSchema.parse({ name: 'm', subjects: ['uns.v1.>'], ...raw }));
const isCleanTopic = (t: string) => /^[^+#/]+(\/[^+#/]+)*$/.test(t);

describe('UNS-style topics', () => {
  it('are the UNS subject with / for . under the prefix, so MQTT and NATS wildcards select the same points', () => {
    fc.assert(
      fc.property(pathArb, metricArb, fc.constantFrom('busway', 'site/a', 'x'), (path, metric, prefix) => {
        const topic = unsTopic(prefix, path, metric);
        assert.ok(isCleanTopic(topic), topic);
        assert.ok(topic.startsWith(`${prefix}/`));
        const asSubject = `uns.v1.${topic
          .slice(prefix.length + 1)
          .split('/')
          .join('.')}`;
        assert.equal(asSubject, unsSubject(path, metric));
      }),
    );
  });

  it('carry the value, unit, event time and quality of the sample as JSON', () => {
    fc.assert(
      fc.property(sampleArb(pathArb), (s) => {
        const { subject, data, headers } = unsMessage(s);
        const { publications } = mapper({ style: 'uns' }).map(subject, data, headers, 1);
        assert.equal(publications.length, 1);
        const v = JSON.parse(publications[0]?.payload ?? '') as {
          value: unknown;
          quality: string;
          time: string;
        };
        const expected =
          s.doubleValue != null
            ? Number.isFinite(s.doubleValue)
              ? s.doubleValue
              : null
            : s.intValue != null
              ? Number(s.intValue.toString())
              : (s.boolValue ?? s.stringValue);
        assert.deepEqual(v.value, JSON.parse(JSON.stringify(expected ?? null)) as unknown);
        assert.equal(v.quality, ['unspecified', 'good', 'uncertain', 'bad', 'stale'][s.quality]);
        assert.match(v.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
      }),
    );
  });
});

describe('DSX-style republish, checked against the DSX Exchange contract (bms.yaml)', () => {
  const classes = fc.constantFrom(...Object.keys(DEFAULT_OBJECT_TYPES), 'gpu', 'node', 'sensor');
  const dsxPath = fc.record({ site: tok, hall: tok, row: tok, rack: tok, assetClass: classes, asset: tok });

  it('publishes only object and point types the contract allows, with a payload its schema accepts', () => {
    let published = 0;
    fc.assert(
      fc.property(sampleArb(dsxPath), fc.constantFrom('BUSWAY', 'MEPAI'), (s, integration) => {
        const { subject, data, headers } = unsMessage(s);
        const { publications, notMapped } = mapper({ style: 'dsx', integration }).map(
          subject,
          data,
          headers,
          1,
        );
        assert.equal(publications.length + notMapped, 1);
        for (const p of publications) {
          published++;
          assert.ok(isCleanTopic(p.topic), p.topic);
          const [root, version, publisher, kind, objectType, pointType, ...tag] = p.topic.split('/');
          assert.deepEqual([root, version, publisher, kind], ['BMS', 'v1', integration, 'Value']);
          assert.ok(
            valuePointTypes.get(objectType ?? '')?.includes(pointType ?? ''),
            `${objectType}/${pointType} is in the contract`,
          );
          const levels = [s.path.site, s.path.hall, s.path.row, s.path.rack, s.path.asset].map((x) =>
            token(x ?? ''),
          );
          assert.equal(tag.join('/'), [...levels, ...metricTokens(s.metric).split('.')].join('/'));
          const payload = JSON.parse(p.payload) as {
            timestamp: number;
            quality: number;
            value: number | null;
          };
          assert.ok(validateValue(payload), JSON.stringify(validateValue.errors));
          assert.equal(payload.timestamp, Number(s.eventTimeNs.divide(1_000_000).toString()));
          assert.equal(payload.quality, s.quality === 1 && payload.value !== null ? 1 : 0);
        }
      }),
      { numRuns: 500 },
    );
    assert.ok(published > 100, 'most generated samples are publishable');
  });

  it('maps the familiar points to their contract point types', () => {
    const topicOf = (assetClass: string, metric: string) => {
      const s = {
        pointId: 'p',
        path: { site: 'ai1', hall: 'h1', row: 'r1', rack: 'rack-1', assetClass, asset: 'a-1' },
        metric,
        doubleValue: 1,
      };
      const { subject, data, headers } = unsMessage(s);
      return mapper({ style: 'dsx' })
        .map(subject, data, headers, 1)
        .publications[0]?.topic.split('/')
        .slice(4, 6)
        .join('/');
    };
    assert.equal(topicOf('rack', 'temperature.coolant.supply'), 'Rack/RackLiquidSupplyTemperature');
    assert.equal(topicOf('rack', 'power.active'), 'Rack/RackPower');
    assert.equal(topicOf('cdu', 'temperature.coolant.return'), 'CDU/LiquidTemperature');
    assert.equal(topicOf('cdu', 'flow.coolant'), 'CDU/LiquidFlow');
    assert.equal(topicOf('busway', 'power.active'), 'PowerMeter/ActivePower');
    assert.equal(topicOf('pdu', 'current.l2'), 'PowerMeter/PhaseCurrent');
    assert.equal(topicOf('pdu', 'temperature.air.inlet'), 'PowerMeter/GenericPoint');
    assert.equal(topicOf('rack', 'current.l1'), undefined, 'a Rack has no GenericPoint: not published');
    assert.equal(topicOf('gpu', 'power.gpu'), undefined, 'no object type for a GPU');
  });

  it('takes object and point types from the mapping over the defaults', () => {
    const s = {
      pointId: 'p',
      path: { site: 's', hall: 'h', row: 'r', rack: 'k', assetClass: 'crah', asset: 'c' },
      metric: 'speed.fan',
      doubleValue: 50,
    };
    const { subject, data, headers } = unsMessage(s);
    const m = mapper({
      style: 'dsx',
      objectTypes: { crah: 'AHU' },
      pointTypes: { 'AHU:speed.fan': 'DamperPosition' },
      tagPath: '{asset}',
    });
    assert.equal(
      m.map(subject, data, headers, 1).publications[0]?.topic,
      'BMS/v1/BUSWAY/Value/AHU/DamperPosition/c',
    );
  });
});

describe('subject- and template-style republish', () => {
  it('fills a template only from subject tokens, and reports a placeholder the message cannot fill', () => {
    fc.assert(
      fc.property(fc.array(tok, { minLength: 2, maxLength: 8 }), (tokens) => {
        const subject = tokens.join('.');
        assert.equal(fillTemplate('a/{subject}', { subject }), `a/${tokens.join('/')}`);
        assert.equal(fillTemplate('{0}/{1}', { subject }), `${tokens[0]}/${tokens[1]}`);
        assert.equal(fillTemplate(`x/{${tokens.length}}`, { subject }), undefined);
        assert.equal(fillTemplate('x/{site}', { subject }), undefined);
      }),
    );
  });

  it('publishes an alarm as a CloudEvent under the subject levels, and refuses it in a samples-only style', () => {
    const data = busway.v1.EventBatch.encode({
      events: [{ id: 'al-1', alarm: { alarmId: 'al-1', active: true } }],
    }).finish();
    const headers = fabricHeaders({ type: EventTypes.EventBatch, source: '/busway/anomaly', id: 'e-1' });
    const subjectMapper = new TopicMapper(
      MappingSchema.parse({ name: 'a', subjects: ['alarm.v1.>'], style: 'subject', prefix: 'ops' }),
    );
    const [p] = subjectMapper.map('alarm.v1.ai1.h1.r1.rack-1', data, headers, 5).publications;
    assert.equal(p?.topic, 'ops/alarm/v1/ai1/h1/r1/rack-1');
    const ce = JSON.parse(p?.payload ?? '') as {
      id: string;
      data: { events: { alarm: { alarmId: string } }[] };
    };
    assert.equal(ce.id, 'e-1');
    assert.equal(ce.data.events[0]?.alarm.alarmId, 'al-1');
    const template = new TopicMapper(
      MappingSchema.parse({
        name: 't',
        subjects: ['alarm.v1.>'],
        style: 'template',
        topic: 'alarms/{2}/{5}',
      }),
    );
    assert.equal(
      template.map('alarm.v1.ai1.h1.r1.rack-1', data, headers, 5).publications[0]?.topic,
      'alarms/ai1/rack-1',
    );
    assert.throws(
      () =>
        mapper({ style: 'template', topic: 'x/{asset}', payload: 'value' }).map('uns.v1.a', data, headers, 1),
      ContractViolation,
    );
  });

  it('refuses a samples payload that does not decode', () => {
    const headers = fabricHeaders({ type: EventTypes.SampleBatch, source: '/x', id: 'bad' });
    assert.throws(
      () => mapper({ style: 'uns' }).map('uns.v1.a', new Uint8Array([0x0a, 0xff, 0xff]), headers, 1),
      DecodeError,
    );
  });

  it('refuses a configuration that cannot work, naming the mapping', () => {
    assert.throws(
      () => MappingSchema.parse({ name: 'x', subjects: ['alarm.v1.>'], style: 'uns' }),
      /reads uns.v1 subjects only/,
    );
    assert.throws(
      () => MappingSchema.parse({ name: 'x', subjects: ['uns.v1.>'], style: 'template' }),
      /needs a topic/,
    );
    assert.throws(
      () => MappingSchema.parse({ name: 'x', subjects: ['events.v1.>'], style: 'subject' }),
      /within one stream/,
    );
  });
});
