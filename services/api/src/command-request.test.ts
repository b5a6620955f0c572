import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { msFromTimeNs } from '@busway/proto';
import { Registry } from '@busway/registry';
import type { Principal } from './auth.js';
import { commandIdOf, parseCommandRequest } from './command-request.js';
import { ApiError } from './errors.js';

const NOW = 1_800_000_000_000;
const operator: Principal = { name: 'operator', scopes: new Set(['read', 'write']) };
const registry = new Registry(
  {
    site: 'ai1',
    assets: [{ id: 'cdu-1', class: 'cdu', hall: 'h1', row: 'r1', rack: 'plant-r1', feeds: [], cools: [] }],
    points: [
      { pointId: 'modbus:cdu-1:supply-sp', asset: 'cdu-1', metric: 'temperature.coolant.supply.setpoint' },
    ],
  },
  1,
);
const SP = 'uns.v1.ai1.h1.r1.plant-r1.cdu.cdu-1.temperature.coolant.supply.setpoint';
const parse = (body: unknown, key?: string) => parseCommandRequest(body, key, operator, registry, NOW);
const refusal = (body: unknown, key?: string): string => {
  try {
    parse(body, key);
  } catch (err) {
    assert.ok(err instanceof ApiError, String(err));
    assert.ok(err.status >= 400 && err.status < 500);
    return `${err.status} ${err.code}: ${err.message}`;
  }
  return 'accepted';
};

describe('POST /v1/commands bodies', () => {
  it('become a command with the requester, its scopes, an expiry and the metric of the path', () => {
    const { command, path } = parse({
      path: SP,
      value: 27.5,
      unit: 'Cel',
      reason: 'warmer water saves chiller energy',
      ttlMs: 30_000,
    });
    assert.equal(path, SP);
    assert.equal(command.metric, 'temperature.coolant.supply.setpoint');
    assert.equal(command.numberValue, 27.5);
    assert.equal(command.requestedBy, 'operator');
    assert.deepEqual(command.scopes, ['read', 'write']);
    assert.equal(msFromTimeNs(command.expiresTimeNs) - msFromTimeNs(command.requestedTimeNs), 30_000);
    assert.match(command.commandId ?? '', /^cmd-[0-9a-f]{32}$/);
  });

  it('resolve a point id through the registry, and refuse one it does not know with 404', () => {
    assert.equal(parse({ pointId: 'modbus:cdu-1:supply-sp', value: true, reason: 'r' }).path, SP);
    assert.match(refusal({ pointId: 'modbus:nope:x', value: 1, reason: 'r' }), /^404 unknown-point/);
  });

  it('give the same command id to the same idempotency key of the same requester, from the body or the header', () => {
    const a = parse({ path: SP, value: 25, reason: 'r', idempotencyKey: 'job-42' }).command;
    const b = parse({ path: SP, value: 25, reason: 'r' }, 'job-42').command;
    assert.equal(a.commandId, b.commandId);
    assert.equal(a.requestHash, b.requestHash, 'the key itself is not part of what the request asks');
    assert.equal(a.commandId, commandIdOf('operator', 'job-42'));
    assert.notEqual(commandIdOf('someone-else', 'job-42'), a.commandId);
    assert.notEqual(
      parse({ path: SP, value: 26, reason: 'r', idempotencyKey: 'job-42' }).command.requestHash,
      a.requestHash,
    );
    assert.notEqual(
      parse({ path: SP, value: 25, reason: 'r' }).command.commandId,
      parse({ path: SP, value: 25, reason: 'r' }).command.commandId,
    );
  });

  it('are refused with 400 and the reason when malformed: no point, two points, wildcards, extra fields, bad values', () => {
    const cases: [unknown, RegExp][] = [
      [null, /body must be a JSON object/],
      [[1], /body must be a JSON object/],
      [{ value: 1, reason: 'r' }, /exactly one of path and pointId/],
      [
        { path: SP, pointId: 'modbus:cdu-1:supply-sp', value: 1, reason: 'r' },
        /exactly one of path and pointId/,
      ],
      [{ path: 'uns.v1.ai1.>', value: 1, reason: 'r' }, /no wildcards/],
      [{ path: 'uns.v1.ai1.h1', value: 1, reason: 'r' }, /names no single point/],
      [{ path: SP, value: '25', reason: 'r' }, /^400 bad-command: value/],
      [{ path: SP, value: 25 }, /reason/],
      [{ path: SP, value: 25, reason: '   ' }, /reason/],
      [{ path: SP, value: 25, reason: 'r', ttlMs: 3_600_000 }, /ttlMs/],
      [{ path: SP, value: 25, reason: 'r', force: true }, /force|unrecognized/i],
      [{ path: SP, value: true, unit: 'Cel', reason: 'r' }, /switch position .* has no unit/],
      [{ path: SP, value: 25, reason: 'r', idempotencyKey: 'a b' }, /idempotencyKey/],
    ];
    for (const [body, reason] of cases) assert.match(refusal(body), reason, JSON.stringify(body));
    assert.match(refusal({ path: SP, value: 25, reason: 'r', idempotencyKey: 'a' }, 'b'), /differ/);
  });

  it('never throw anything but a 4xx for any JSON value', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.jsonValue(),
          fc.record({ path: fc.string(), value: fc.jsonValue(), reason: fc.string() }, { requiredKeys: [] }),
        ),
        (body) => {
          const r = refusal(body);
          assert.ok(r === 'accepted' || /^4\d\d /.test(r), r);
        },
      ),
    );
  });
});
