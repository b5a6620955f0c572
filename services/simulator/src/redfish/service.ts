import { randomBytes } from 'node:crypto';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { EventHub, type EventHubOptions } from './events.js';
import { parseEventFilter, type EventPredicate } from './filter.js';
import {
  DEFAULT_QUIRKS,
  errorOf,
  metricReportOf,
  powerOf,
  ROOT,
  STANDARD_METRICS,
  thermalOf,
  type ChassisState,
  type RedfishQuirks,
} from './model.js';
import { resourceRoutes } from './resources.js';

/** What the service offers; a BMC without one of them answers 404 there, as old firmware does. */
export interface RedfishFeatures {
  /** EventService.ServerSentEventUri. @default true */
  sse: boolean;
  /** EventService/Subscriptions with push delivery. @default true */
  subscriptions: boolean;
  /** TelemetryService with MetricReports. @default true */
  telemetry: boolean;
  /** HTTP basic authentication besides sessions. @default true */
  basicAuth: boolean;
}

export interface RedfishServiceOptions {
  /** @default 127.0.0.1 */
  host?: string;
  /** @default 0 (any free port) */
  port?: number;
  /** Serve HTTPS with this key and certificate (PEM). */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** Accounts: user name to password. @default { admin: 'redfish' } */
  users?: Record<string, string>;
  chassis?: ChassisState[];
  /** Metric report definitions (ids); each report carries every chassis. @default ['PowerThermal'] */
  reportDefinitions?: string[];
  features?: Partial<RedfishFeatures>;
  quirks?: Partial<RedfishQuirks>;
  events?: Partial<EventHubOptions>;
  /** Now, in ns since the epoch. @default the wall clock */
  clockNs?: () => bigint;
}

interface Session {
  id: string;
  user: string;
}

export type Handler = (req: IncomingMessage, url: URL, body: unknown) => Reply | Promise<Reply>;

/** What a route answers: a status, a JSON body, headers; or `stream` when it took over the response. */
export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  stream?: true;
}

const wallClockNs = () => BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);

/**
 * A Redfish service (DSP0266 protocol, DSP0268 schema) for tests and the simulator: ServiceRoot, sessions,
 * EventService (SSE with Last-Event-ID resume and `$filter`, EventDestination push with retries),
 * TelemetryService (MetricReport v1.5, definitions), Chassis Power and Thermal; with switches for the quirks
 * real BMCs have and for faults (expired sessions, dropped connections, repeated or skipped sequences).
 */
export class RedfishService {
  readonly quirks: RedfishQuirks;
  readonly features: RedfishFeatures;
  readonly events: EventHub;
  readonly chassis = new Map<string, ChassisState>();
  readonly reportDefinitions: string[];
  /** `METHOD path` of every request, oldest first (bounded). */
  readonly requests: string[] = [];
  /** Logins (POST Sessions), logouts (DELETE), and requests refused with 401. */
  readonly counts = { logins: 0, logouts: 0, unauthorized: 0 };
  private readonly sessions = new Map<string, Session>();
  private readonly sequences = new Map<string, number>();
  private readonly latest = new Map<string, Record<string, unknown>>();
  private readonly users: Record<string, string>;
  private readonly clockNs: () => bigint;
  private nextSessionId = 1;
  private reporting?: NodeJS.Timeout;
  private server!: Server;
  private routes: [RegExp, Record<string, Handler>][] = [];
  url = '';

  private constructor(private readonly opts: RedfishServiceOptions) {
    this.quirks = { ...DEFAULT_QUIRKS, ...opts.quirks };
    this.features = { sse: true, subscriptions: true, telemetry: true, basicAuth: true, ...opts.features };
    this.events = new EventHub({
      retryAttempts: 3,
      retryIntervalMs: 1000,
      pushTimeoutMs: 5000,
      historyLimit: 256,
      ...opts.events,
    });
    this.users = opts.users ?? { admin: 'redfish' };
    this.clockNs = opts.clockNs ?? wallClockNs;
    this.reportDefinitions = opts.reportDefinitions ?? ['PowerThermal'];
    for (const c of opts.chassis ?? []) this.chassis.set(c.id, c);
    this.routes = resourceRoutes(this);
  }

  static async start(opts: RedfishServiceOptions = {}): Promise<RedfishService> {
    const service = new RedfishService(opts);
    const handle = (req: IncomingMessage, res: ServerResponse) => void service.handle(req, res);
    service.server = opts.tls ? createHttpsServer(opts.tls, handle) : createHttpServer(handle);
    await new Promise<void>((resolve, reject) => {
      service.server.once('error', reject);
      service.server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
    });
    const { port } = service.server.address() as AddressInfo;
    service.url = `${opts.tls ? 'https' : 'http'}://${opts.host ?? '127.0.0.1'}:${port}`;
    return service;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Replaces (or adds) a chassis' readings. */
  setChassis(state: ChassisState): void {
    this.chassis.set(state.id, state);
  }

  /** Builds each definition's next report (ReportSequence + 1), keeps it in MetricReports and sends it out. */
  emitReports(): Record<string, unknown>[] {
    return this.reportDefinitions.map((id) => this.emitReport(id));
  }

  emitReport(definitionId = this.reportDefinitions[0] ?? 'PowerThermal'): Record<string, unknown> {
    const sequence = (this.sequences.get(definitionId) ?? 0) + 1;
    this.sequences.set(definitionId, sequence);
    const report = metricReportOf(
      definitionId,
      sequence,
      this.clockNs(),
      this.chassis.values(),
      STANDARD_METRICS,
      this.quirks,
    );
    this.latest.set(definitionId, report);
    this.send(definitionId, JSON.stringify(report));
    return report;
  }

  /** Sends the last report of a definition again, unchanged (same ReportSequence): a repeat. */
  resendReport(definitionId = this.reportDefinitions[0] ?? 'PowerThermal'): void {
    const report = this.latest.get(definitionId);
    if (report) this.send(definitionId, JSON.stringify(report));
  }

  /** The next report's ReportSequence jumps by `n`: a gap of n reports the clients never see. */
  skipSequence(n: number, definitionId = this.reportDefinitions[0] ?? 'PowerThermal'): void {
    this.sequences.set(definitionId, (this.sequences.get(definitionId) ?? 0) + n);
  }

  /** Sends any text as a metric report event (malformed input for clients to cope with). */
  emitRaw(data: string, definitionId = this.reportDefinitions[0] ?? 'PowerThermal'): void {
    this.send(definitionId, data);
  }

  /** The latest report of a definition, as GET MetricReports/{id} serves it. */
  latestReport(definitionId: string): Record<string, unknown> | undefined {
    return this.latest.get(definitionId);
  }

  /** Emits every definition's report every `intervalMs` until stopReporting or close. */
  startReporting(intervalMs: number): void {
    this.stopReporting();
    this.reporting = setInterval(() => this.emitReports(), intervalMs);
    this.reporting.unref();
  }

  stopReporting(): void {
    clearInterval(this.reporting);
    this.reporting = undefined;
  }

  /** Invalidates every session token: the next request with one gets 401, as after a BMC session timeout. */
  expireSessions(): void {
    this.sessions.clear();
  }

  /** Cuts every open connection (SSE streams and keep-alive sockets): a network fault or a BMC reboot. */
  dropConnections(): void {
    this.events.dropStreams();
    this.server.closeAllConnections();
  }

  async close(): Promise<void> {
    this.stopReporting();
    this.events.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // --- used by the routes ---

  chassisResource(id: string): Record<string, unknown> | undefined {
    const c = this.chassis.get(id);
    if (!c) return undefined;
    return {
      '@odata.type': '#Chassis.v1_25_0.Chassis',
      '@odata.id': `${ROOT}/Chassis/${id}`,
      Id: id,
      Name: id,
      ChassisType: 'RackMount',
      Power: { '@odata.id': `${ROOT}/Chassis/${id}/Power` },
      Thermal: { '@odata.id': `${ROOT}/Chassis/${id}/Thermal` },
    };
  }

  power(id: string): Record<string, unknown> | undefined {
    const c = this.chassis.get(id);
    return c && powerOf(c);
  }

  thermal(id: string): Record<string, unknown> | undefined {
    const c = this.chassis.get(id);
    return c && thermalOf(c);
  }

  /** POST Sessions: a token and the session's URI, or undefined for wrong credentials. */
  login(body: unknown): { token: string; location: string; id: string } | undefined {
    const { UserName, Password } = (body ?? {}) as { UserName?: unknown; Password?: unknown };
    if (
      typeof UserName !== 'string' ||
      this.users[UserName] === undefined ||
      this.users[UserName] !== Password
    )
      return undefined;
    const id = String(this.nextSessionId++);
    const token = randomBytes(16).toString('hex');
    this.sessions.set(token, { id, user: UserName });
    this.counts.logins++;
    return { token, id, location: `${ROOT}/SessionService/Sessions/${id}` };
  }

  logout(id: string): boolean {
    for (const [token, s] of this.sessions)
      if (s.id === id) {
        this.sessions.delete(token);
        this.counts.logouts++;
        return true;
      }
    return false;
  }

  sessionIds(): string[] {
    return [...this.sessions.values()].map((s) => s.id);
  }

  /** The SSE GET: 400 for a filter it does not understand, else the stream. */
  openStream(req: IncomingMessage, res: ServerResponse, url: URL): Reply {
    const filter = url.searchParams.get('$filter');
    let predicate: EventPredicate | undefined;
    if (filter !== null) {
      if (!this.quirks.sseFilter)
        return { status: 400, body: errorOf('QueryNotSupported', '$filter is not supported') };
      try {
        predicate = parseEventFilter(filter);
      } catch (err) {
        return { status: 400, body: errorOf('QueryParameterValueFormatError', (err as Error).message) };
      }
    }
    this.events.openStream(req, res, predicate);
    return { status: 200, stream: true };
  }

  private send(definitionId: string, data: string): void {
    const reportDefinition = `${ROOT}/TelemetryService/MetricReportDefinitions/${definitionId}`;
    this.events.emit({ formatType: 'MetricReport', reportDefinition }, data);
  }

  private authorized(req: IncomingMessage): boolean {
    const token = req.headers['x-auth-token'];
    if (typeof token === 'string' && this.sessions.has(token)) return true;
    const auth = req.headers.authorization;
    if (!this.features.basicAuth || !auth?.startsWith('Basic ')) return false;
    const [user, ...rest] = Buffer.from(auth.slice(6), 'base64').toString('utf8').split(':');
    return user !== undefined && this.users[user] !== undefined && this.users[user] === rest.join(':');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://bmc');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';
    if (this.requests.length >= 10_000) this.requests.shift();
    this.requests.push(`${method} ${path}`);
    try {
      const body = await readJson(req);
      const open =
        path === '/redfish' ||
        path === ROOT ||
        (method === 'POST' && path === `${ROOT}/SessionService/Sessions`);
      if (!open && !this.authorized(req)) {
        this.counts.unauthorized++;
        const headers: Record<string, string> = this.features.basicAuth
          ? { 'WWW-Authenticate': 'Basic realm="Redfish"' }
          : {};
        return send(res, {
          status: 401,
          body: errorOf('NoValidSession', 'no valid session or credentials'),
          headers,
        });
      }
      const route = this.routes.find(([re]) => re.test(path));
      if (!route)
        return send(res, { status: 404, body: errorOf('ResourceMissingAtURI', `${path} does not exist`) });
      const handler = route[1][method];
      if (!handler)
        return send(res, { status: 405, body: errorOf('OperationNotAllowed', `${method} on ${path}`) });
      const reply = path.endsWith('/SSE') ? this.openStream(req, res, url) : await handler(req, url, body);
      if (!reply.stream) send(res, reply);
    } catch (err) {
      send(res, {
        status: err instanceof SyntaxError ? 400 : 500,
        body: errorOf('GeneralError', (err as Error).message),
      });
    }
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  if (req.method === 'GET' || req.method === 'DELETE') return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 1 << 20) throw new SyntaxError('request body over 1 MiB');
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  return text.trim() === '' ? undefined : (JSON.parse(text) as unknown);
}

function send(res: ServerResponse, reply: Reply): void {
  if (res.headersSent) return;
  const body = reply.body === undefined ? '' : JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    ...(body ? { 'Content-Type': 'application/json;charset=utf-8' } : {}),
    'OData-Version': '4.0',
    ...reply.headers,
  });
  res.end(body);
}
