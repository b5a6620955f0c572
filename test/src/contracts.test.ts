import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Parser } from '@asyncapi/parser';
import protobuf from 'protobufjs';
import { busway, EventTypes, Long, Subjects, timeNsFromMs, unsSubject } from '@busway/proto';
import { fabricHeaders } from '@busway/runtime';
import { parse as parseYaml } from 'yaml';

const protoDir = join(dirname(fileURLToPath(import.meta.url)), '../../proto');
const docText = readFileSync(join(protoDir, 'asyncapi.yaml'), 'utf8');
const doc = parseYaml(docText) as {
  channels: Record<string, { address: string }>;
  components: { schemas: Record<string, { required?: string[]; properties: Record<string, unknown> }> };
};

/** A channel address as a regex: each {parameter} is one subject token (the UNS metric may be several). */
const addressRegex = (address: string) =>
  new RegExp(
    `^${address
      .replace(/\./g, '\\.')
      .replace('{metric}', '[a-z0-9_-]+(\\.[a-z0-9_-]+)*')
      .replace('{path}', '[a-z0-9_-]+(\\.[a-z0-9_-]+)*') // a UNS path: several tokens
      .replace(/\{\w+\}/g, '[^./]+')}$`,
  );

describe('the AsyncAPI contract', () => {
  it('is a valid AsyncAPI 3 document for @asyncapi/parser, without errors or warnings', async () => {
    const { document, diagnostics } = await new Parser().parse(docText);
    const problems = diagnostics.filter((d) => d.severity <= 1).map((d) => `${d.code}: ${d.message}`);
    assert.deepEqual(problems, []);
    assert.equal(document?.channels().length, Object.keys(doc.channels).length);
  });

  it('is what the generator makes of the current .proto files (the two cannot drift)', async () => {
    const generator = (await import(pathToFileURL(join(protoDir, 'scripts/asyncapi.mjs')).href)) as {
      render: () => string;
    };
    assert.equal(docText, generator.render(), 'stale: run `npm run asyncapi -w @busway/proto`');
  });

  it('names every subject the workers publish to', () => {
    const cdu = unsSubject(
      { site: 'ai1', hall: 'h1', row: 'r1', rack: 'plant-r1', assetClass: 'cdu', asset: 'cdu-r1' },
      'temperature.coolant.supply',
    );
    const published: [string, string][] = [
      ['alarms', Subjects.alarm('ai1', 'h1', 'r1', 'rack-r1-01')],
      ['rollups', Subjects.rollup('1m', cdu)],
      ['controlCommands', Subjects.controlCommand(cdu)],
      ['controlResults', Subjects.controlResult(cdu)],
      ['rawSamples', Subjects.rawSamples('sparkplug', 'ai1-h1/row-r1-gw')],
      ['rawEvents', Subjects.rawEvents('scheduler')],
      ['normSamples', Subjects.normSamples('ai1', 'h1', 'r1', 'rack-r1-01')],
      ['normEvents', Subjects.normEvents('job')],
      ['orderedSamples', Subjects.orderedSamples('ai1', 'h1', 'r1', 'plant-r1')],
      ['orderedEvents', Subjects.orderedEvents('job')],
      ['incidents', Subjects.incident('ai1', 'job-power-thermal')],
      ['anomalies', Subjects.anomaly('ai1', 'h1', 'r1', 'rack-r1-01')],
      ['deadLetters', Subjects.deadLetter('normalizer')],
      ['audit', Subjects.audit('sparkplug', 'spBv1.0-ai1-h1-DDATA-row-r1-gw')],
      [
        'uns',
        unsSubject(
          { site: 'ai1', hall: 'h1', row: 'r1', rack: 'plant-r1', assetClass: 'cdu', asset: 'cdu-r1' },
          'temperature.coolant.supply',
        ),
      ],
    ];
    for (const [channel, subject] of published) {
      const address = doc.channels[channel]?.address ?? '';
      assert.match(subject, addressRegex(address), `${subject} is on channel ${channel} (${address})`);
    }
  });

  it('requires exactly the headers the runtime writes on every fabric message', () => {
    const h = fabricHeaders({ type: EventTypes.SampleBatch, source: '/test', id: 'x' });
    const schema = doc.components.schemas.FabricHeaders;
    for (const name of schema?.required ?? []) assert.ok(h.get(name), `the runtime sets ${name}`);
    for (const name of h.keys())
      assert.ok(name in (schema?.properties ?? {}), `the document describes ${name}`);
  });
});

describe('contract evolution', () => {
  it('lets a v1 consumer decode a message from a producer with an added field and an added enum value', () => {
    // the producer's next contract: telemetry.proto with one more Sample field and one more Quality value
    const next = readFileSync(join(protoDir, 'busway/v1/telemetry.proto'), 'utf8')
      .replace(/(repeated string flags = 17;[^\n]*)/, '$1\n  string tenant = 99;')
      .replace(/(enum Quality \{[^}]*?)(\n\})/s, '$1\n  QUALITY_SUBSTITUTED = 9;$2');
    assert.match(next, /tenant = 99/);
    const Producer = protobuf.parse(next, { keepCase: false }).root.lookupType('busway.v1.SampleBatch');
    const bytes = Producer.encode(
      Producer.fromObject({
        samples: [
          {
            pointId: 'sparkplug:g/e/cdu-1:Supply',
            metric: 'temperature.coolant.supply',
            doubleValue: 30.5,
            unit: 'Cel',
            eventTimeNs: Long.fromValue(timeNsFromMs(1_800_000_000_000)),
            quality: 'QUALITY_SUBSTITUTED',
            tenant: 'team-a',
          },
        ],
      }),
    ).finish();

    const seen = busway.v1.SampleBatch.decode(bytes).samples[0]; // the generated v1 code
    assert.equal(seen?.pointId, 'sparkplug:g/e/cdu-1:Supply');
    assert.equal(seen?.doubleValue, 30.5);
    assert.equal(seen?.unit, 'Cel');
    assert.equal(seen?.eventTimeNs?.toString(), (1_800_000_000_000n * 1_000_000n).toString());
    assert.equal(seen?.quality, 9, 'an unknown enum value arrives as its number (open enums)');
    assert.equal('tenant' in (seen ?? {}), false, 'the unknown field is skipped');
  });
});
