import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '@busway/runtime';
import { freePort } from '@busway/testkit';
import { CommandRefused } from '../errors.js';
import { matches, MqttLink } from './mqtt-link.js';

describe('the MQTT link of the command worker', () => {
  let link: MqttLink;

  before(async () => {
    // nothing listens on this port: the link stays disconnected
    link = await MqttLink.connect(
      `mqtt://127.0.0.1:${await freePort()}`,
      'cmd-test',
      createLogger('command-test', 'silent'),
      100,
    );
  });
  after(() => link.stop());

  const refusal = async (deadlineMs: number) => {
    try {
      await link.publishCommand('spBv1.0/g/DCMD/e/d', Buffer.from('x'), deadlineMs);
    } catch (err) {
      assert.ok(err instanceof CommandRefused);
      return err.code;
    }
    return 'sent';
  };

  it('never sends a command with less than a second of its lifetime left: it is expired', async () => {
    assert.equal(await refusal(Date.now() + 900), 'expired');
    assert.equal(await refusal(Date.now() - 1), 'expired');
  });

  it('never queues a command while the broker is away: refused, so it cannot arrive late', async () => {
    assert.equal(link.connected, false);
    assert.equal(await refusal(Date.now() + 30_000), 'delivery-unavailable');
  });

  it('matches MQTT filters with + and #', () => {
    assert.equal(matches('BMS/v1/PUB/Metadata/#', 'BMS/v1/PUB/Metadata/CDU/X/a/b'), true);
    assert.equal(matches('BMS/v1/+/Value/#', 'BMS/v1/MEPAI/Value/CDU/X/a'), true);
    assert.equal(matches('BMS/v1/+/Value/#', 'BMS/v1/MEPAI/Metadata/CDU/X/a'), false);
    assert.equal(matches('a/+', 'a/b/c'), false);
  });
});
