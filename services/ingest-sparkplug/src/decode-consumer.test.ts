import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Subjects } from '@busway/proto';
import { subjectCovers } from '@busway/runtime';
import { SparkplugDecodeConfigSchema } from './config.js';
import { decodeConsumer } from './decode-stage.js';

const consumerOf = (groups: string) => decodeConsumer(SparkplugDecodeConfigSchema.parse({ groups }));

describe('the decode stage’s consumer on AUDIT', () => {
  it('reads every edge node’s messages as the bridge stores them, and none of an earlier bridge’s copies', () => {
    const { durable, filterSubject = '' } = consumerOf('+');
    assert.equal(durable, 'sparkplug-decode');
    assert.ok(subjectCovers(filterSubject, Subjects.sparkplugOriginal('ai1-h1', 'row-r1-gw')));
    // what bridges before the split stored: one token after `sparkplug`
    assert.ok(!subjectCovers(filterSubject, 'audit.v1.sparkplug.spbv1-0-ai1-h1-ndata-row-r1-gw'));
  });

  it('owns one group’s nodes, on a durable of its own, when given a group', () => {
    const { durable, filterSubject = '' } = consumerOf('Hall1');
    assert.equal(durable, 'sparkplug-decode-hall1');
    assert.ok(subjectCovers(filterSubject, Subjects.sparkplugOriginal('Hall1', 'gw')));
    assert.ok(!subjectCovers(filterSubject, Subjects.sparkplugOriginal('hall2', 'gw')));
  });
});
