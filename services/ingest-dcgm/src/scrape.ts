import { DecodeError, TransientError } from '@busway/runtime';
import type { TargetConfig } from './config.js';

/** What one HTTP scrape returned. */
export interface ScrapeResponse {
  status: number;
  contentType: string;
  body: string;
}

/** An answer that is not an exposition (a 404, a 401): the endpoint is there but the scrape cannot succeed. */
export class HttpStatusError extends TransientError {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * GETs the exposition within the target's timeout (connect, headers and body together), reading at most
 * `maxBodyBytes`: a longer body is a DecodeError, never held in memory whole. Network failures and timeouts
 * are TransientErrors; a non-2xx answer is an HttpStatusError.
 */
export async function scrape(target: TargetConfig, signal: AbortSignal): Promise<ScrapeResponse> {
  const timeout = AbortSignal.timeout(target.timeoutMs);
  const both = AbortSignal.any([timeout, signal]);
  let res: Response;
  try {
    res = await fetch(target.url, {
      headers: { accept: 'text/plain;version=0.0.4;q=1,*/*;q=0.1', ...target.headers },
      signal: both,
      redirect: 'follow',
    });
  } catch (err) {
    throw new TransientError(
      `GET ${target.url}: ${timeout.aborted ? `no answer in ${target.timeoutMs} ms` : causeOf(err)}`,
      {
        cause: err,
      },
    );
  }
  if (res.status < 200 || res.status > 299) {
    await res.body?.cancel().catch(() => undefined);
    throw new HttpStatusError(res.status, `GET ${target.url}: HTTP ${res.status} ${res.statusText}`);
  }
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  try {
    for await (const chunk of res.body ?? []) {
      bytes += chunk.byteLength;
      if (bytes > target.maxBodyBytes) {
        await res.body?.cancel().catch(() => undefined);
        throw new DecodeError(
          `the exposition at ${target.url} is larger than maxBodyBytes (${target.maxBodyBytes})`,
        );
      }
      chunks.push(chunk);
    }
  } catch (err) {
    if (err instanceof DecodeError) throw err;
    throw new TransientError(
      `GET ${target.url}: the body broke off: ${timeout.aborted ? 'timeout' : causeOf(err)}`,
      {
        cause: err,
      },
    );
  }
  const body = new TextDecoder('utf-8', { fatal: false }).decode(Buffer.concat(chunks));
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', body };
}

function causeOf(err: unknown): string {
  const e = err as { message?: string; cause?: { message?: string; code?: string } };
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
}
