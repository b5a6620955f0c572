import {
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingMessage,
  type OutgoingHttpHeaders,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { TransientError, type Logger } from '@busway/runtime';
import type { EndpointConfig } from './config.js';

/** Thrown when the service answers with a status that is not 2xx; `status` tells 404 (no such feature) from 5xx. */
export class HttpStatusError extends TransientError {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface RedfishResponse {
  status: number;
  headers: IncomingMessage['headers'];
  /** The body parsed as JSON, or undefined when it is empty or not JSON. */
  json: unknown;
  text: string;
}

interface RequestOptions {
  body?: unknown;
  headers?: OutgoingHttpHeaders;
  signal?: AbortSignal;
}

/**
 * HTTP(S) to one Redfish service: keep-alive, the CA the endpoint names (or, loudly, none), and its
 * authentication. Session auth logs in on first use (POST SessionService/Sessions, X-Auth-Token), logs in again
 * once when a request gets 401 (an expired session), and logs out on close. Credentials are never logged.
 */
export class RedfishClient {
  private readonly agent: HttpAgent | HttpsAgent;
  private readonly https: boolean;
  private token?: string;
  private sessionUri?: string;
  private loggingIn?: Promise<void>;
  /** Logins after a 401, for metrics and tests. */
  relogins = 0;
  /** Where sessions are created; the ServiceRoot's Links.Sessions when it names one. */
  sessionsPath = '/redfish/v1/SessionService/Sessions';

  constructor(
    private readonly endpoint: EndpointConfig,
    ca: Buffer | undefined,
    private readonly maxBytes: number,
    private readonly log: Logger,
  ) {
    this.https = endpoint.url.startsWith('https:');
    this.agent = this.https
      ? new HttpsAgent({
          keepAlive: true,
          maxSockets: 4,
          ca,
          rejectUnauthorized: !endpoint.insecureSkipVerify,
        })
      : new HttpAgent({ keepAlive: true, maxSockets: 4 });
  }

  /** GET a resource's JSON; throws HttpStatusError on any status but 2xx. */
  async get(path: string, signal?: AbortSignal): Promise<unknown> {
    const res = await this.request('GET', path, { signal });
    if (res.status < 200 || res.status > 299)
      throw new HttpStatusError(res.status, `GET ${path}: HTTP ${res.status}`);
    return res.json;
  }

  /** Any request, authenticated, with one re-login on 401 under session auth. */
  async request(method: string, path: string, opts: RequestOptions = {}): Promise<RedfishResponse> {
    const res = await this.authenticated((auth) =>
      this.send(method, path, { ...opts, headers: { ...opts.headers, ...auth } }),
    );
    return res;
  }

  /** Opens a long-lived GET (SSE): resolves with the response once its headers arrived, whatever its status. */
  async stream(path: string, headers: OutgoingHttpHeaders, signal: AbortSignal): Promise<IncomingMessage> {
    return this.authenticated(
      async (auth) => {
        const res = await this.open('GET', path, {
          headers: { Accept: 'text/event-stream', ...headers, ...auth },
          signal,
        });
        if (res.statusCode === 401) res.resume();
        return res;
      },
      (res) => res.statusCode === 401,
    );
  }

  /** Ends the session (DELETE its URI) and closes idle sockets. */
  async close(): Promise<void> {
    const [uri, token] = [this.sessionUri, this.token];
    this.token = undefined;
    this.sessionUri = undefined;
    if (uri && token) {
      try {
        const res = await this.send('DELETE', uri, { headers: { 'X-Auth-Token': token } });
        this.log.debug({ status: res.status }, 'Redfish session closed');
      } catch (err) {
        this.log.debug(
          { err: (err as Error).message },
          'Redfish session logout failed; it expires on its own',
        );
      }
    }
    this.agent.destroy();
  }

  private async authenticated<T extends RedfishResponse | IncomingMessage>(
    run: (auth: OutgoingHttpHeaders) => Promise<T>,
    unauthorized: (r: T) => boolean = (r) => (r as RedfishResponse).status === 401,
  ): Promise<T> {
    const { auth, username = '', password = '' } = this.endpoint;
    if (auth === 'none') return run({});
    if (auth === 'basic')
      return run({ Authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` });
    if (!this.token) await this.login();
    const first = await run({ 'X-Auth-Token': this.token ?? '' });
    if (!unauthorized(first)) return first;
    // the session expired (timeout, BMC reboot): one new login, one retry
    this.token = undefined;
    this.relogins++;
    this.log.info('Redfish session no longer valid; logging in again');
    await this.login();
    return run({ 'X-Auth-Token': this.token ?? '' });
  }

  private login(): Promise<void> {
    this.loggingIn ??= (async () => {
      try {
        const res = await this.send('POST', this.sessionsPath, {
          body: { UserName: this.endpoint.username, Password: this.endpoint.password },
        });
        const token = res.headers['x-auth-token'];
        if (res.status < 200 || res.status > 299 || typeof token !== 'string')
          throw new HttpStatusError(
            res.status,
            `login refused: HTTP ${res.status}${typeof token === 'string' ? '' : ', no X-Auth-Token'}`,
          );
        const location =
          res.headers.location ?? (res.json as { '@odata.id'?: string } | undefined)?.['@odata.id'];
        this.token = token;
        this.sessionUri =
          typeof location === 'string' ? new URL(location, this.endpoint.url).pathname : undefined;
      } finally {
        this.loggingIn = undefined;
      }
    })();
    return this.loggingIn;
  }

  private async send(method: string, path: string, opts: RequestOptions): Promise<RedfishResponse> {
    const res = await this.open(method, path, opts);
    const chunks: Buffer[] = [];
    let size = 0;
    const guard = setTimeout(
      () =>
        res.destroy(
          new TransientError(`${method} ${path}: body not complete in ${this.endpoint.timeoutMs} ms`),
        ),
      this.endpoint.timeoutMs,
    );
    try {
      for await (const chunk of res as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > this.maxBytes) {
          res.destroy();
          throw new HttpStatusError(413, `${method} ${path}: answer over ${this.maxBytes} bytes`);
        }
        chunks.push(chunk);
      }
    } finally {
      clearTimeout(guard);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    let json: unknown;
    try {
      json = text.trim() === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.statusCode ?? 0, headers: res.headers, json, text };
  }

  /** Sends a request; resolves once the response's headers are in (within timeoutMs). */
  private open(method: string, path: string, opts: RequestOptions): Promise<IncomingMessage> {
    const url = new URL(path, this.endpoint.url);
    const body = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
    const headers: OutgoingHttpHeaders = {
      Accept: 'application/json',
      'OData-Version': '4.0',
      ...(body ? { 'Content-Type': 'application/json', 'Content-Length': body.length } : {}),
      ...opts.headers,
    };
    const send = this.https ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(url, { method, headers, agent: this.agent, signal: opts.signal }, (res) => {
        clearTimeout(timer);
        resolve(res);
      });
      const timer = setTimeout(
        () =>
          req.destroy(
            new TransientError(`${method} ${url.pathname}: no answer in ${this.endpoint.timeoutMs} ms`),
          ),
        this.endpoint.timeoutMs,
      );
      req.on('error', (err) => {
        clearTimeout(timer);
        reject(
          err instanceof TransientError
            ? err
            : new TransientError(`${method} ${url.pathname}: ${err.message}`, { cause: err }),
        );
      });
      req.end(body);
    });
  }
}
