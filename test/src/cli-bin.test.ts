import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ROOT } from './helm.js';

// The README's "the CLI is `npx busway`": npm links the command at install time, before anything is built.
describe('npx busway', () => {
  it('runs the CLI through the bin npm linked into node_modules/.bin', async () => {
    const { stdout } = await promisify(execFile)(join(ROOT, 'node_modules', '.bin', 'busway'), ['--help'], {
      cwd: ROOT,
    });
    assert.match(stdout, /^busway — /);
    assert.match(stdout, /busway demo /);
  });
});
