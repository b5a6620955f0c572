import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A server process started for a test, on loopback, with its own temp data dir. */
export interface TestServer {
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  /** SIGTERM and wait. */
  stop(): Promise<void>;
  /** SIGKILL and wait: a crash. */
  kill(): Promise<void>;
  /** Start again on the same port with the same data dir. */
  restart(): Promise<void>;
  /** Stop and delete the data dir. */
  dispose(): Promise<void>;
}

/** A free TCP port on loopback (the OS picks; a tiny race with other processes is accepted). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts TCP connections on the port. */
export async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const sock = connect(port, '127.0.0.1');
      sock.once('connect', () => (sock.destroy(), resolve(true)));
      sock.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline)
      throw new Error(`nothing listening on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The binary of a server: BUSWAY_<NAME>_BIN, else the first fallback, else the name on PATH. */
export function which(bin: string, fallbacks: string[]): string {
  return (
    [process.env[`BUSWAY_${bin.toUpperCase().replace(/-/g, '_')}_BIN`], ...fallbacks].find(Boolean) ?? bin
  );
}

export async function startProcess(
  name: string,
  cmd: string,
  args: (port: number, dir: string) => string[],
  scheme: string,
  prepare?: (port: number, dir: string) => void,
  env?: NodeJS.ProcessEnv,
): Promise<TestServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), `busway-${name}-`));
  prepare?.(port, dir);
  let proc: ChildProcess | undefined;
  let stderr = '';
  const launch = async () => {
    stderr = '';
    proc = spawn(cmd, args(port, dir), { stdio: ['ignore', 'ignore', 'pipe'], env: env ?? process.env });
    proc.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    const exited = new Promise<never>((_, reject) =>
      proc?.once('exit', (code) => reject(new Error(`${name} exited with ${code}: ${stderr}`))),
    );
    await Promise.race([waitForPort(port), exited]);
  };
  const halt = async (signal: NodeJS.Signals) => {
    const p = proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill(signal);
    });
  };
  await launch();
  return {
    port,
    dir,
    url: `${scheme}://127.0.0.1:${port}`,
    stop: () => halt('SIGTERM'),
    kill: () => halt('SIGKILL'),
    restart: async () => {
      await halt('SIGTERM');
      await launch();
    },
    dispose: async () => {
      await halt('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Extras of a nats-server started for a test. */
export interface StartNatsOptions {
  /** A server config file (accounts, users, TLS); the address, port and store dir flags still win. @default none */
  configFile?: string;
  /** The server's environment, e.g. the passwords a config file refers to as variables. @default process.env */
  env?: NodeJS.ProcessEnv;
}

/** nats-server with JetStream, store in a temp dir. */
export function startNats(extraArgs: string[] = [], opts: StartNatsOptions = {}): Promise<TestServer> {
  const bin = which('nats-server', ['/usr/sbin/nats-server', '/usr/local/bin/nats-server']);
  const config = opts.configFile ? ['-c', opts.configFile] : [];
  return startProcess(
    'nats',
    bin,
    (port, dir) => [...config, '-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir, ...extraArgs],
    'nats',
    undefined,
    opts.env,
  );
}

/**
 * redis-server keeping nothing on disk; `durable`: an append-only file fsynced on every write, so restart()
 * keeps every key.
 */
export function startRedis(opts: { durable?: boolean } = {}): Promise<TestServer> {
  const bin = which('redis-server', ['/usr/bin/redis-server']);
  const persistence = opts.durable
    ? ['--appendonly', 'yes', '--appendfsync', 'always']
    : ['--appendonly', 'no'];
  return startProcess(
    'redis',
    bin,
    (port, dir) => [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      ...persistence,
      '--dir',
      dir,
    ],
    'redis',
  );
}

/** mosquitto with anonymous access on loopback. */
export function startMosquitto(): Promise<TestServer> {
  const bin = which('mosquitto', ['/usr/sbin/mosquitto']);
  return startProcess(
    'mosquitto',
    bin,
    (_port, dir) => ['-c', join(dir, 'mosquitto.conf')],
    'mqtt',
    (port, dir) =>
      writeFileSync(
        join(dir, 'mosquitto.conf'),
        `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 100000\nmax_inflight_messages 0\n`,
      ),
  );
}
