// The VEN's HTTP side of OpenADR 3.1: OAuth2 client credentials (refreshed before expiry and on 401),
// JSON requests with a timeout, and paged reads.
import { TransientError, type Logger } from '@busway/runtime';

/** The VTN answered 4xx (other than a 401 a new token cured): retrying the same request will not help. */
export class VtnRefused extends Error {
  constructor(
    readonly status: number,
    readonly method: string,
    readonly path: string,
    detail: string,
  ) {
    super(`${method} ${path}: ${status} ${detail}`.slice(0, 500));
  }
}

export interface VtnClientOptions {
  vtnUrl: string;
  clientId?: string;
  clientSecret?: string;
  tokenUrl?: string;
  scope?: string;
  timeoutMs: number;
  pageSize: number;
}

type Query = Record<string, string | number | boolean | string[] | undefined>;

/** Share of a token's lifetime after which it is renewed before the next request. */
const REFRESH_AT = 0.8;

export class VtnClient {
  /** Tokens fetched so far (the first one and every refresh). */
  tokensFetched = 0;
  private token?: { value: string; refreshAtMs: number };
  private fetching?: Promise<string>;
  private tokenUrl?: string;
  private readonly base: string;

  constructor(
    private readonly opts: VtnClientOptions,
    private readonly log: Logger,
    private readonly onToken: (why: 'first' | 'expiring' | 'refused') => void = () => undefined,
  ) {
    this.base = opts.vtnUrl.replace(/\/+$/, '');
  }

  async get(path: string, query: Query = {}): Promise<unknown> {
    return this.request('GET', path, { query });
  }

  /** Every object of a collection, page after page (skip/limit) until a short page. */
  async getAll(path: string, query: Query = {}): Promise<unknown[]> {
    const all: unknown[] = [];
    let previousFirst: string | undefined;
    for (let skip = 0; ; skip += this.opts.pageSize) {
      const page = await this.request('GET', path, { query: { ...query, skip, limit: this.opts.pageSize } });
      if (!Array.isArray(page)) throw new VtnRefused(200, 'GET', path, 'the answer is not a JSON array');
      // a VTN that ignores limit sends everything at once; one that ignores skip sends page 1 again
      const first = JSON.stringify(page[0] ?? null);
      if (skip > 0 && first === previousFirst) return all;
      previousFirst = first;
      all.push(...(page as unknown[]));
      if (page.length !== this.opts.pageSize) return all;
    }
  }

  /** One JSON request with the bearer token; a 401 fetches a new token and tries once more. */
  async request(
    method: string,
    path: string,
    init: { query?: Query; body?: unknown } = {},
  ): Promise<unknown> {
    let token = await this.accessToken();
    let res = await this.send(method, path, init, token);
    if (res.status === 401 && token) {
      this.token = undefined;
      token = await this.accessToken('refused');
      res = await this.send(method, path, init, token);
    }
    const text = await res.text();
    if (res.status >= 500 || res.status === 429 || res.status === 408)
      throw new TransientError(`${method} ${path}: VTN answered ${res.status}`);
    if (res.status < 200 || res.status >= 300) throw new VtnRefused(res.status, method, path, text);
    if (text === '') return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new VtnRefused(res.status, method, path, 'the answer is not JSON');
    }
  }

  private async send(method: string, path: string, init: { query?: Query; body?: unknown }, token?: string) {
    const url = new URL(`${this.base}${path}`);
    for (const [k, v] of Object.entries(init.query ?? {})) {
      if (v === undefined) continue;
      for (const item of Array.isArray(v) ? v : [v]) url.searchParams.append(k, String(item));
    }
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    return this.fetchOrTransient(url, {
      method,
      headers,
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
  }

  private async fetchOrTransient(url: URL | string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(url, { ...init, signal: AbortSignal.timeout(this.opts.timeoutMs) });
    } catch (err) {
      const reason = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new TransientError(`${init.method ?? 'GET'} ${String(url)}: ${reason}`, { cause: err });
    }
  }

  /** The current token, renewed when 80 % of its lifetime is gone; undefined without credentials. */
  private async accessToken(why: 'first' | 'expiring' | 'refused' = 'first'): Promise<string | undefined> {
    if (!this.opts.clientId || !this.opts.clientSecret) return undefined;
    if (this.token && Date.now() < this.token.refreshAtMs) return this.token.value;
    const reason = this.token ? 'expiring' : this.tokensFetched === 0 ? 'first' : why;
    // concurrent requests share one token fetch
    this.fetching ??= this.fetchToken(reason).finally(() => (this.fetching = undefined));
    return this.fetching;
  }

  private async fetchToken(why: 'first' | 'expiring' | 'refused'): Promise<string> {
    this.tokenUrl ??= this.opts.tokenUrl ?? (await this.discoverTokenUrl());
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: this.opts.clientId ?? '',
      client_secret: this.opts.clientSecret ?? '',
      ...(this.opts.scope ? { scope: this.opts.scope } : {}),
    });
    const res = await this.fetchOrTransient(this.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form.toString(),
    });
    const text = await res.text();
    if (res.status >= 500) throw new TransientError(`token endpoint answered ${res.status}`);
    // the secret never reaches a log line: only the status and the server's words
    if (res.status !== 200) throw new VtnRefused(res.status, 'POST', this.tokenUrl, text);
    let body: { access_token?: unknown; expires_in?: unknown; token_type?: unknown };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new VtnRefused(res.status, 'POST', this.tokenUrl, 'token answer is not JSON');
    }
    if (typeof body.access_token !== 'string' || body.access_token === '')
      throw new VtnRefused(res.status, 'POST', this.tokenUrl, 'token answer has no access_token');
    const ttlS = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : undefined;
    this.token = {
      value: body.access_token,
      refreshAtMs: ttlS === undefined ? Infinity : Date.now() + Math.max(ttlS * 1000 * REFRESH_AT, 500),
    };
    this.tokensFetched++;
    this.onToken(why);
    this.log.debug({ ttlS, why }, 'VTN access token fetched');
    return body.access_token;
  }

  /** GET /auth/server: the token endpoint the VTN advertises (OpenADR 3.1). */
  private async discoverTokenUrl(): Promise<string> {
    const res = await this.fetchOrTransient(`${this.base}/auth/server`, { method: 'GET' });
    const text = await res.text();
    if (res.status >= 500) throw new TransientError(`GET /auth/server answered ${res.status}`);
    if (res.status !== 200) throw new VtnRefused(res.status, 'GET', '/auth/server', text);
    try {
      const { tokenURL } = JSON.parse(text) as { tokenURL?: unknown };
      if (typeof tokenURL !== 'string') throw new Error('no tokenURL');
      return new URL(tokenURL, `${this.base}/`).toString();
    } catch (err) {
      throw new VtnRefused(
        res.status,
        'GET',
        '/auth/server',
        `no usable tokenURL: ${(err as Error).message}`,
      );
    }
  }
}
