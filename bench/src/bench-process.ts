// A benchmark helper process (a pass-through hop) with its own health port: ready, metrics, pid, stop.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parsePrometheus } from '@busway/cli';
import { announcedPort } from '@busway/runtime';

type PromSample = ReturnType<typeof parsePrometheus>[number];

export class BenchProcess {
  private constructor(
    readonly name: string,
    private readonly proc: ChildProcess,
    private readonly port: number,
    private readonly exited: Promise<void>,
  ) {}

  /** Runs `node <script> ...args` with `env`, logging to `<logDir>/<name>.log`, and waits until /readyz answers. */
  static async start(
    name: string,
    script: string,
    args: string[],
    env: NodeJS.ProcessEnv,
    logDir: string,
  ): Promise<BenchProcess> {
    // the process binds any free port and writes it down: none is picked here for another process to take
    const portFile = join(logDir, `${name}.port`);
    rmSync(portFile, { force: true });
    const proc = spawn(process.execPath, [script, ...args], {
      env: { ...env, BUSWAY_HTTP_PORT: '0', BUSWAY_HTTP_PORT_FILE: portFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const log = createWriteStream(join(logDir, `${name}.log`), { flags: 'a' });
    proc.stdout?.pipe(log);
    proc.stderr?.pipe(log);
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    const deadline = Date.now() + 30_000;
    for (let p: BenchProcess | undefined; ;) {
      const port = announcedPort(portFile);
      p ??= port === undefined ? undefined : new BenchProcess(name, proc, port, exited);
      if (p && (await p.get('/readyz'))) return p;
      if (proc.exitCode !== null) throw new Error(`${name} exited early; see ${logDir}/${name}.log`);
      if (Date.now() > deadline) throw new Error(`${name} not ready; see ${logDir}/${name}.log`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  get pid(): number | undefined {
    return this.proc.exitCode === null ? this.proc.pid : undefined;
  }

  private async get(path: string): Promise<string | undefined> {
    try {
      const res = await fetch(`http://127.0.0.1:${this.port}${path}`);
      return res.ok ? await res.text() : undefined;
    } catch {
      return undefined;
    }
  }

  async scrape(): Promise<PromSample[]> {
    const text = await this.get('/metrics');
    return text ? parsePrometheus(text) : [];
  }

  /** Sends `sig` while the process runs (SIGSTOP / SIGCONT freeze and thaw it). */
  signal(sig: NodeJS.Signals): void {
    if (this.proc.exitCode === null) this.proc.kill(sig);
  }

  /** SIGTERM (the hop finishes its batch and drains), SIGKILL after 10 s. */
  async stop(): Promise<void> {
    if (this.proc.exitCode !== null) return;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }
}
