// One-time set-up behind `npm test` and `npm run demo` on a fresh machine: npm packages, the local
// stack (NATS, Redis, Mosquitto: apt-get installed when missing), and the build.
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd, args, env = {}) =>
  execFileSync(cmd, args, {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, ...env },
  });
const say = (msg) => process.stderr.write(`[bootstrap] ${msg}\n`);

const installed = join(root, 'node_modules', '.package-lock.json');
const lock = join(root, 'package-lock.json');
if (!existsSync(installed) || statSync(lock).mtimeMs > statSync(installed).mtimeMs) {
  say('installing npm packages (npm ci)');
  try {
    run('npm', ['ci', '--no-audit', '--no-fund']);
  } catch {
    // A registry mirror without other platforms' optional binaries (turbo's) makes `npm ci` refuse the
    // lock file; `npm install` still installs the locked versions.
    say('npm ci refused the lock file; falling back to npm install');
    run('npm', ['install', '--no-audit', '--no-fund']);
  }
}

if (!process.argv.includes('--no-stack')) {
  say('checking the local stack (NATS, Redis, Mosquitto)');
  run('bash', [join(root, 'deploy/local/stack.sh')], {});
}

say('building');
run(join(root, 'node_modules/.bin/turbo'), ['run', 'build', '--output-logs=errors-only'], {
  TURBO_TELEMETRY_DISABLED: '1',
  DO_NOT_TRACK: '1',
});
