import { readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { StringDecoder } from 'node:string_decoder';
import { DecodeError, TransientError } from '@busway/runtime';

export interface RequestOptions {
  headers: Record<string, string>;
  /** PEM CA file for an HTTPS API. */
  caFile?: string;
  /** Until the response headers arrive. */
  timeoutMs: number;
  signal: AbortSignal;
}

/** An answer whose status says the request cannot succeed as it is (410 Gone, 401, 404, 500). */
export class HttpStatusError extends TransientError {
  constructor(
    readonly status: number,
    readonly body: string,
    message: string,
  ) {
    super(message);
  }
}

const cas = new Map<string, Buffer>();
function caOf(file: string): Buffer {
  let ca = cas.get(file);
  if (!ca) cas.set(file, (ca = readFileSync(file)));
  return ca;
}

/** A GET whose response body is read by the caller (a watch stream); rejects with TransientError on a network failure. */
export function open(url: string, opts: RequestOptions): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(
      u,
      {
        method: 'GET',
        headers: { accept: 'application/json', ...opts.headers },
        signal: opts.signal,
        ...(u.protocol === 'https:' && opts.caFile ? { ca: caOf(opts.caFile) } : {}),
      },
      (res) => {
        clearTimeout(timer);
        resolve(res);
      },
    );
    const timer = setTimeout(
      () => req.destroy(new Error(`no answer in ${opts.timeoutMs} ms`)),
      opts.timeoutMs,
    );
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(new TransientError(`GET ${u.origin}${u.pathname}: ${err.message}`, { cause: err }));
    });
    req.end();
  });
}

/** Reads a whole body of at most maxBytes. */
async function readBody(res: IncomingMessage, maxBytes: number, what: string): Promise<string> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    if (bytes > maxBytes) {
      res.destroy();
      throw new DecodeError(`${what}: the answer is larger than ${maxBytes} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * GETs a JSON document: the parsed body of a 2xx answer. A non-2xx answer is an HttpStatusError (with its
 * body: a Kubernetes Status, slurmrestd's errors), a body that is not JSON a DecodeError.
 */
export async function getJson(url: string, opts: RequestOptions & { maxBytes: number }): Promise<unknown> {
  const res = await open(url, opts);
  const what = `GET ${new URL(url).pathname}`;
  let body: string;
  try {
    body = await readBody(res, opts.maxBytes, what);
  } catch (err) {
    if (err instanceof DecodeError) throw err;
    throw new TransientError(`${what}: the answer broke off: ${(err as Error).message}`, { cause: err });
  }
  const status = res.statusCode ?? 0;
  if (status < 200 || status > 299)
    throw new HttpStatusError(status, body.slice(0, 4096), `${what}: HTTP ${status}`);
  try {
    return JSON.parse(body) as unknown;
  } catch (err) {
    throw new DecodeError(`${what}: the answer is not JSON: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * The lines of a streamed body (newline-delimited JSON), read as they arrive: the next chunk is read only when
 * the caller asks for the next line, so a slow consumer leaves data in the socket. A line longer than
 * maxLineBytes ends the stream with a DecodeError.
 */
export async function* lines(res: IncomingMessage, maxLineBytes: number): AsyncGenerator<string> {
  let pending = '';
  const utf8 = new StringDecoder('utf8'); // a character split across two chunks stays whole
  for await (const chunk of res as AsyncIterable<Buffer>) {
    pending += utf8.write(chunk);
    let nl = pending.indexOf('\n');
    while (nl >= 0) {
      const line = pending.slice(0, nl).trim();
      pending = pending.slice(nl + 1);
      if (line !== '') yield line;
      nl = pending.indexOf('\n');
    }
    if (pending.length > maxLineBytes) {
      res.destroy();
      throw new DecodeError(`a watch event longer than ${maxLineBytes} bytes`);
    }
  }
  if (pending.trim() !== '') yield pending.trim();
}
