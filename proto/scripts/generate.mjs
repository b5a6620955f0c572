// Generates static protobufjs code (no reflection on the hot path) into gen/, which git ignores.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const cliDir = dirname(require.resolve('protobufjs-cli/package.json'));
const bundles = {
  busway: ['busway/v1/events.proto', 'busway/v1/commands.proto'], // events imports telemetry.proto
  sparkplug: ['sparkplug/sparkplug_b.proto'],
};

mkdirSync(join(root, 'gen'), { recursive: true });
for (const [name, files] of Object.entries(bundles)) {
  const js = join(root, 'gen', `${name}.js`);
  const pbjsArgs = ['-t', 'static-module', '-w', 'es6', '--force-long', '--no-beautify', '--no-delimited'];
  execFileSync(process.execPath, [join(cliDir, 'bin/pbjs'), ...pbjsArgs, '-p', root, '-o', js, ...files], {
    cwd: root,
    stdio: 'inherit',
  });
  // Node ESM needs the file extension, and protobufjs/minimal is CommonJS: take its default export.
  const patched = readFileSync(js, 'utf8').replace(
    /import \* as \$protobuf from "protobufjs\/minimal";/,
    'import $protobuf from "protobufjs/minimal.js";',
  );
  writeFileSync(js, patched);
  execFileSync(process.execPath, [
    join(cliDir, 'bin/pbts'),
    '--no-comments',
    '-o',
    join(root, 'gen', `${name}.d.ts`),
    js,
  ]);
  const dts = readFileSync(join(root, 'gen', `${name}.d.ts`), 'utf8');
  writeFileSync(
    join(root, 'gen', `${name}.d.ts`),
    dts
      .replace(/from "protobufjs"/g, 'from "protobufjs/index.js"')
      .replace('import Long = require("long");', 'import type Long from "long";'),
  );
}
