// A nats-server set up as production is: the Busway users of deploy/nats/busway-users.conf (the generated file,
// included verbatim) inside a BUSWAY account with JetStream, passwords from the server's environment, and on
// request TLS (mutual when `verify`). An `admin` user without restrictions observes for the tests.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import {
  loadConfig,
  natsOptionsOf,
  natsSecurityOptions,
  passwordEnvOf,
  RuntimeConfigSchema,
  usersOf,
} from '@busway/runtime';
import { freePort, startNats, type TestServer } from '@busway/testkit';
import { ROOT } from './helm.js';
import type { CertFiles, TestPki } from './tls-certs.js';

export interface SecureNatsOptions {
  /** Serve TLS with a certificate of this PKI; `verify` also requires client certificates (mutual TLS). */
  tls?: { pki: TestPki; verify: boolean };
}

export interface SecureNats {
  server: TestServer;
  /** Monitoring endpoint (connz shows each connection's user and TLS version). */
  monitorUrl: string;
  /** Password of each Busway user by worker name (and `provisioner`). */
  passwords: Map<string, string>;
  /** Client certificate of each user, when the server verifies them. */
  clientCerts: Map<string, CertFiles>;
  /** Env a worker (or the provisioner) needs to connect as itself: URL, user, password, TLS files. */
  envOf(worker: string): Record<string, string>;
  /** A connection as that worker, made by the runtime's own option mapping. */
  connectAs(worker: string, overrides?: Record<string, string>): Promise<NatsConnection>;
  /** The unrestricted observer. */
  connectAdmin(): Promise<NatsConnection>;
  dispose(): Promise<void>;
}

export async function startSecureNats(opts: SecureNatsOptions = {}): Promise<SecureNats> {
  const dir = mkdtempSync(join(tmpdir(), 'busway-secure-nats-'));
  const names = usersOf().map(([name]) => name);
  const passwords = new Map(names.map((n) => [n, randomBytes(12).toString('hex')]));
  const adminPassword = randomBytes(12).toString('hex');
  // the generated users, verbatim, plus the observer appended to the list
  const users = readFileSync(join(ROOT, 'deploy', 'nats', 'busway-users.conf'), 'utf8');
  const end = users.lastIndexOf(']');
  writeFileSync(
    join(dir, 'busway-users.conf'),
    `${users.slice(0, end).trimEnd()},\n  { user: "admin", password: "${adminPassword}" }\n]\n`,
  );
  const clientCerts = new Map<string, CertFiles>();
  let tls = '';
  if (opts.tls) {
    const server = opts.tls.pki.issue('nats-server', 'server');
    tls = `tls {\n  cert_file: "${server.cert}"\n  key_file: "${server.key}"\n  ca_file: "${opts.tls.pki.ca}"\n  verify: ${opts.tls.verify}\n  timeout: 5\n}\n`;
    if (opts.tls.verify) {
      for (const name of [...names, 'admin'])
        clientCerts.set(name, opts.tls.pki.issue(`busway-${name}`, 'client'));
    }
  }
  const configFile = join(dir, 'server.conf');
  writeFileSync(
    configFile,
    `accounts {\n  BUSWAY {\n    jetstream: enabled\n    include ./busway-users.conf\n  }\n}\n${tls}`,
  );
  const monitorPort = await freePort();
  const env = {
    ...process.env,
    // nats-server parses a variable's value as config: quoted, a password is a string whatever its characters
    ...Object.fromEntries(names.map((n) => [passwordEnvOf(n), JSON.stringify(passwords.get(n))])),
  };
  const server = await startNats(['-m', String(monitorPort)], { configFile, env });

  const tlsEnv = (name: string): Record<string, string> => {
    if (!opts.tls) return {};
    const cert = clientCerts.get(name);
    return {
      NATS_TLS_CA: opts.tls.pki.ca,
      ...(cert ? { NATS_TLS_CERT: cert.cert, NATS_TLS_KEY: cert.key } : {}),
    };
  };
  const envOf = (worker: string): Record<string, string> => ({
    NATS_URL: server.url,
    NATS_USER: `busway-${worker}`,
    NATS_PASSWORD: passwords.get(worker) ?? '',
    ...tlsEnv(worker),
  });
  const connectWith = (env: Record<string, string>, worker: string) => {
    const config = loadConfig(RuntimeConfigSchema, { env: { BUSWAY_CONFIG: '', ...env } });
    const options = natsOptionsOf(config, worker);
    // a refused handshake is noticed by the client only when its connect times out: keep that short here
    return connect({
      servers: server.url,
      name: options.name,
      timeout: 3000,
      ...natsSecurityOptions(options),
    });
  };
  return {
    server,
    monitorUrl: `http://127.0.0.1:${monitorPort}`,
    passwords,
    clientCerts,
    envOf,
    connectAs: (worker, overrides = {}) => connectWith({ ...envOf(worker), ...overrides }, worker),
    connectAdmin: () =>
      connectWith(
        { NATS_URL: server.url, NATS_USER: 'admin', NATS_PASSWORD: adminPassword, ...tlsEnv('admin') },
        'admin',
      ),
    dispose: async () => {
      await server.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
