import type { IncomingMessage, ServerResponse } from 'node:http';

/** An HTTP failure the VTN answers with an RFC 7807 problem (the document's `problem` schema). */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    detail?: string,
  ) {
    super(detail ?? title);
  }
}

export const MAX_BODY_BYTES = 1 << 20;

/** The request body, at most MAX_BODY_BYTES (413 beyond). */
export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpProblem(413, 'Payload Too Large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A JSON body; 400 when it is not JSON. */
export async function readJson(req: IncomingMessage): Promise<unknown> {
  const text = await readBody(req);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new HttpProblem(400, 'Bad Request', `body is not JSON: ${(err as Error).message}`);
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function problemOf(status: number, title: string, detail?: string): Record<string, unknown> {
  return { type: 'about:blank', title, status, ...(detail ? { detail } : {}) };
}

/** `skip` and `limit` query parameters as the document bounds them (limit at most 50). */
export function pageOf(query: URLSearchParams): { skip: number; limit: number } {
  const int = (name: string, fallback: number, max: number) => {
    const raw = query.get(name);
    if (raw === null) return fallback;
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n > max) throw new HttpProblem(400, 'Bad Request', `${name} must be 0..${max}`);
    return n;
  };
  return { skip: int('skip', 0, 2 ** 31 - 1), limit: int('limit', 50, 50) };
}
