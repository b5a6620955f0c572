// A real HTTP server for the tests: records every request and answers what each path is told to.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  atMs: number;
}

/** How a path answers request number `n` (1-based) to it. */
export type Responder = (
  n: number,
  req: Received,
) => { status: number; headers?: Record<string, string>; delayMs?: number };

export class TestReceiver {
  readonly received: Received[] = [];
  private readonly responders = new Map<string, Responder>();
  private readonly counts = new Map<string, number>();
  private server?: Server;
  port = 0;

  on(path: string, responder: Responder): this {
    this.responders.set(path, responder);
    return this;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  at(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const path = req.url ?? '/';
        const r: Received = {
          path,
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          atMs: Date.now(),
        };
        this.received.push(r);
        const n = (this.counts.get(path) ?? 0) + 1;
        this.counts.set(path, n);
        const answer: ReturnType<Responder> = (this.responders.get(path) ?? (() => ({ status: 404 })))(n, r);
        const send = () => res.writeHead(answer.status, answer.headers ?? {}).end();
        if (answer.delayMs) setTimeout(send, answer.delayMs);
        else send();
      });
    });
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
