// The VEN's webhook: the VTN POSTs notifications here with the bearer token the subscription gave it.
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@busway/runtime';

export const CALLBACK_PATH = '/openadr/callback';
const MAX_BODY_BYTES = 1 << 20;

/** How a notification was handled: the HTTP status the VTN gets. */
export type CallbackOutcome = 200 | 400 | 503;

export interface CallbackServerOptions {
  port: number;
  address: string;
  token: string;
  /** Notifications handled at once; more are answered 503 (the VTN retries them later). */
  maxPending: number;
}

const sameToken = (header: string | undefined, token: string) => {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  if (!m?.[1]) return false;
  const a = Buffer.from(m[1]);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
};

/**
 * node:http listener for subscription callbacks. A callback is answered only once `handle` resolves, i.e.
 * after JetStream stored what it carried; while `maxPending` are in hand the VTN gets 503 at once, so a
 * slow JetStream pauses the VTN instead of filling memory.
 */
export class CallbackServer {
  private readonly server: Server;
  private pending = 0;

  constructor(
    private readonly options: CallbackServerOptions,
    private readonly handle: (notification: unknown) => Promise<CallbackOutcome>,
    private readonly log: Logger,
    private readonly count: (outcome: string) => void,
  ) {
    this.server = createServer((req, res) => void this.onRequest(req, res));
  }

  async start(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.address, () => resolve());
    });
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://ven').pathname;
    if (path !== CALLBACK_PATH) return this.answer(res, 404, 'not found');
    if (req.method !== 'POST') return this.answer(res, 405, 'POST only');
    if (!sameToken(req.headers.authorization, this.options.token)) {
      this.count('callback-unauthorized');
      req.resume();
      return this.answer(res, 401, 'bearer token missing or wrong');
    }
    if (this.pending >= this.options.maxPending) {
      this.count('callback-busy');
      req.resume();
      res.setHeader('retry-after', '1');
      return this.answer(res, 503, 'busy: JetStream has not stored the previous notifications yet');
    }
    this.pending++;
    try {
      const text = await readBody(req);
      let body: unknown;
      try {
        body = JSON.parse(text) as unknown;
      } catch {
        body = { unparsable: text.slice(0, 4096) };
      }
      const status = await this.handle(body);
      this.answer(
        res,
        status,
        status === 200 ? 'stored' : status === 400 ? 'refused, see the dead letter' : 'not stored, retry',
      );
    } catch (err) {
      if (err instanceof TooLarge) {
        this.count('callback-too-large');
        this.answer(res, 413, `body over ${MAX_BODY_BYTES} bytes`);
        return;
      }
      this.log.warn({ err }, 'callback failed');
      this.answer(res, 503, 'not stored, retry');
    } finally {
      this.pending--;
    }
  }

  private answer(res: ServerResponse, status: number, detail: string): void {
    if (res.headersSent) return;
    const body = status === 200 ? '{}' : JSON.stringify({ title: detail, status });
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(body);
  }
}

/** Thrown when a callback body passes MAX_BODY_BYTES: answered 413, so the VTN does not retry it. */
class TooLarge extends Error {}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new TooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
