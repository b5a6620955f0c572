import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { announcedPort } from '@busway/runtime';
import { parsePrometheus, type PromSample } from './prometheus.js';

const BIN = fileURLToPath(new URL('./bin.js', import.meta.url));

/**
 * V8 heap flags per worker, from measurements (services/normalizer/README.md). The normalizer holds a 100k-point
 * registry and buffers output until its PubAcks; with V8's defaults its RSS under load reaches 230-270 MB. 8 MB
 * semi-spaces halve the young generation, and a 1 GB old-space limit (far above what it uses) makes V8 let the
 * old generation grow by about 1.6 times between collections instead of up to 4: 160-170 MB, for about 15 % of its
 * CPU per sample. The environment's NODE_OPTIONS come after these, so an operator's flag wins; a NODE_OPTIONS
 * passed to `start` in `extraEnv` replaces them.
 */
const WORKER_NODE_OPTIONS: Readonly<Record<string, string>> = {
  normalizer: '--max-semi-space-size=8 --max-old-space-size=1024',
};

/** Exits a worker may make before it is ready, each followed by a restart. */
const MAX_EXITS_BEFORE_READY = 3;

interface Child {
  name: string;
  /** Where the worker writes the health port it bound (it asks for any free one: no port to race for). */
  portFile: string;
  /** Read from portFile once the worker wrote it. */
  port?: number;
  proc: ChildProcess;
  exited: Promise<number | null>;
}

/**
 * Runs each worker as its own process (`busway run <name>`), as a container would, with its own health
 * port and a log file. Restarts a worker that dies unless it is being stopped.
 */
export class Supervisor {
  private readonly children = new Map<string, Child>();
  /** Metrics of the workers stopped by `retire`, as last read. */
  private readonly retired: PromSample[] = [];
  private stopping = new Set<string>();
  /** Set by `stopAll`: from then on no exit is restarted (Ctrl-C reaches every worker of the terminal at once). */
  private closing = false;
  /** Unexpected exits per worker since start (each one restarted). */
  private readonly exits = new Map<string, number>();

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly logDir: string,
    private readonly onEvent: (line: string) => void = () => undefined,
  ) {
    mkdirSync(logDir, { recursive: true });
  }

  async start(name: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<void> {
    const portFile = join(this.logDir, `${name}.port`);
    rmSync(portFile, { force: true }); // a restart must not read the port of the process before it
    const log = createWriteStream(join(this.logDir, `${name}.log`), { flags: 'a' });
    const nodeOptions =
      extraEnv.NODE_OPTIONS ?? [WORKER_NODE_OPTIONS[name], this.env.NODE_OPTIONS].filter(Boolean).join(' ');
    const proc = spawn(process.execPath, [BIN, 'run', name], {
      env: {
        ...this.env,
        ...extraEnv,
        NODE_OPTIONS: nodeOptions,
        BUSWAY_HTTP_PORT: '0',
        BUSWAY_HTTP_PORT_FILE: portFile,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // both streams write one file: the first to end must not close it under the other
    proc.stdout?.pipe(log, { end: false });
    proc.stderr?.pipe(log, { end: false });
    proc.once('close', () => log.end()); // after both streams have ended
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    this.children.set(name, { name, portFile, proc, exited });
    void exited.then((code) => {
      if (this.closing || this.stopping.has(name) || this.children.get(name)?.proc !== proc) return;
      this.exits.set(name, (this.exits.get(name) ?? 0) + 1);
      this.onEvent(`${name} exited with ${code}; restarting (log: ${join(this.logDir, `${name}.log`)})`);
      setTimeout(() => {
        if (!this.closing && !this.stopping.has(name)) void this.start(name, extraEnv); // not after a stop meanwhile
      }, 1000);
    });
  }

  /**
   * Resolves when every worker answers /readyz with 200 (a worker that exited is waited for once restarted).
   * Every worker not yet ready is looked at on each round, so one that keeps exiting fails the wait at once.
   */
  async waitReady(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const waiting = new Set(this.children.keys());
    for (;;) {
      for (const name of waiting) {
        const child = this.children.get(name) as Child; // a restart replaces it
        if (await this.probe(child, '/readyz')) waiting.delete(name);
      }
      if (waiting.size === 0) return;
      for (const name of waiting) {
        const exits = this.exits.get(name) ?? 0;
        if (exits >= MAX_EXITS_BEFORE_READY)
          throw new Error(`${name} exited ${exits} times before it was ready${this.logTail(name)}`);
      }
      if (Date.now() > deadline) {
        const name = [...waiting][0] as string;
        throw new Error(`${[...waiting].join(', ')} not ready after ${timeoutMs} ms${this.logTail(name)}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Where a worker's log is, and its last lines: what a failed start shows. */
  private logTail(name: string): string {
    const file = join(this.logDir, `${name}.log`);
    const lines = existsSync(file) ? readFileSync(file, 'utf8').trimEnd().split('\n').slice(-5) : [];
    return `; see ${file}${lines.length > 0 ? `, which ends:\n${lines.join('\n')}` : ''}`;
  }

  private async probe(child: Child, path: string): Promise<boolean> {
    const port = this.portOf(child);
    if (port === undefined) return false;
    try {
      const res = await fetch(`http://127.0.0.1:${port}${path}`);
      return res.ok;
    } catch {
      return false;
    }
  }

  /** The worker's health port, once it has written it. */
  private portOf(child: Child): number | undefined {
    child.port ??= announcedPort(child.portFile);
    return child.port;
  }

  /** Metrics of every running worker, each sample labelled with its worker, and the last of those retired. */
  async scrape(): Promise<PromSample[]> {
    const all = [...this.retired];
    for (const child of this.children.values()) all.push(...(await this.scrapeOne(child)));
    return all;
  }

  private async scrapeOne(child: Child): Promise<PromSample[]> {
    const port = this.portOf(child);
    if (port === undefined) return []; // starting: no counts yet
    try {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      return res.ok ? parsePrometheus(await res.text()) : [];
    } catch {
      return []; // restarting: its counts come back with it
    }
  }

  /** Stops a worker whose counts are still reported: reads its metrics, stops it, and keeps them in `scrape()`. */
  async retire(name: string): Promise<void> {
    const child = this.children.get(name);
    if (!child) return;
    this.retired.push(...(await this.scrapeOne(child)));
    await this.stop(name);
  }

  /** The worker's process id; undefined while it is not running. */
  pid(name: string): number | undefined {
    const child = this.children.get(name);
    return child && child.proc.exitCode === null && child.proc.signalCode === null
      ? child.proc.pid
      : undefined;
  }

  /**
   * Sends a signal to a running worker, for fault injection: SIGKILL is a crash (restarted like any other
   * death), SIGSTOP and SIGCONT freeze and thaw it. False when it is not running.
   */
  signal(name: string, signal: NodeJS.Signals): boolean {
    const child = this.children.get(name);
    if (!child || child.proc.exitCode !== null || child.proc.signalCode !== null) return false;
    return child.proc.kill(signal);
  }

  /** SIGTERM (graceful: finish in-flight, drain), SIGKILL after `graceMs`. */
  async stop(name: string, graceMs = 20_000): Promise<void> {
    const child = this.children.get(name);
    if (!child) return;
    this.stopping.add(name);
    if (child.proc.exitCode === null) child.proc.kill('SIGTERM');
    const timer = setTimeout(() => child.proc.kill('SIGKILL'), graceMs);
    await child.exited;
    clearTimeout(timer);
    this.children.delete(name);
  }

  async stopAll(order: readonly string[]): Promise<void> {
    this.closing = true;
    for (const name of order) await this.stop(name);
    for (const name of [...this.children.keys()]) await this.stop(name);
  }
}
