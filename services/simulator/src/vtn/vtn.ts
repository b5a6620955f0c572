// An OpenADR 3.1 VTN on node:http, built from the OpenAPI document: every body it reads or writes is checked
// against the document's schemas. For the simulator's grid operator and for the VEN's tests.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TokenAuthority, type TokenGrant, type VtnClient } from './auth.js';
import { HttpProblem, pageOf, problemOf, readBody, readJson, sendJson } from './http.js';
import { DEFAULT_NOTIFIER, WebhookNotifier, type Notification, type NotifierOptions } from './notifier.js';
import { COLLECTIONS, eventEndMs, visibleTo, type CollectionName, type OadrObject } from './objects.js';
import { openAdrSpec, type OpenAdrSchemaName, type OpenAdrSpec } from './spec.js';

export interface VtnLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface VtnOptions {
  /** TCP port; 0 picks a free one. @default 0 */
  port?: number;
  /** Address to listen on. @default 127.0.0.1 */
  host?: string;
  /** Path prefix of every endpoint, e.g. /openadr3/3.1.0. @default '' */
  basePath?: string;
  /** Clients provisioned out of band (VENs and the business logic). */
  clients: VtnClient[];
  /** Lifetime of an access token. @default 3600 */
  tokenTtlS?: number;
  notifier?: Partial<NotifierOptions>;
  log?: VtnLog;
}

/** One request the VTN answered, for tests (paging, refresh, retries). */
export interface VtnRequest {
  method: string;
  path: string;
  query: string;
  status: number;
  clientId?: string;
}

type Op = Notification['operation'];
const silent: VtnLog = { info: () => undefined, warn: () => undefined };

/** Business-logic grant for objects the VTN's owner writes through the methods below. */
const BL: TokenGrant = { clientId: 'vtn-business-logic', role: 'bl', expiresAtMs: Infinity };

export class Vtn {
  readonly spec: OpenAdrSpec = openAdrSpec();
  readonly auth: TokenAuthority;
  readonly notifier: WebhookNotifier;
  readonly requests: VtnRequest[] = [];
  /** Bodies the VTN was about to send that the document rejects (a VTN bug; tests assert it stays empty). */
  readonly invalidResponses: string[] = [];
  /** Faults a test or a scenario can switch on. */
  readonly faults = {
    /** POST /subscriptions answers 500. */
    failSubscriptions: false,
    /** Every request answers 503. */
    unavailable: false,
    /** Changes notify nobody (a notifier that silently stopped). */
    muteNotifications: false,
  };
  private readonly store = new Map<CollectionName, Map<string, OadrObject>>(
    Object.keys(COLLECTIONS).map((k) => [k as CollectionName, new Map()]),
  );
  private nextId = 1;
  private lastStampMs = 0;
  private readonly log: VtnLog;
  private readonly basePath: string;

  private constructor(
    private readonly server: Server,
    options: VtnOptions,
  ) {
    this.log = options.log ?? silent;
    this.basePath = (options.basePath ?? '').replace(/\/+$/, '');
    this.auth = new TokenAuthority(options.clients, options.tokenTtlS ?? 3600);
    this.notifier = new WebhookNotifier(this.spec, { ...DEFAULT_NOTIFIER, ...options.notifier }, (d) =>
      this.log.warn(d, 'webhook notification given up'),
    );
  }

  static async start(options: VtnOptions): Promise<Vtn> {
    const server = createServer();
    const vtn = new Vtn(server, options);
    server.on('request', (req, res) => void vtn.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
    });
    return vtn;
  }

  /** Base URL of the API, e.g. http://127.0.0.1:8080/openadr3/3.1.0 */
  get url(): string {
    const { port } = this.server.address() as AddressInfo;
    const address = (this.server.address() as AddressInfo).address;
    const host = address.includes(':') ? `[${address}]` : address;
    return `http://${host === '[::]' || host === '0.0.0.0' ? '127.0.0.1' : host}:${port}${this.basePath}`;
  }

  async close(): Promise<void> {
    this.notifier.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // --- the business logic's side: what a utility's DR system does -------------------------------------

  createProgram(request: Record<string, unknown>): OadrObject {
    return this.create('programs', request, BL);
  }

  createEvent(request: Record<string, unknown>): OadrObject {
    return this.create('events', request, BL);
  }

  updateEvent(id: string, request: Record<string, unknown>): OadrObject {
    return this.update('events', id, request, BL);
  }

  /** Cancels an event the OpenADR 3 way: deletes it, which notifies DELETE with the object. */
  cancelEvent(id: string): OadrObject {
    return this.remove('events', id, BL);
  }

  list(collection: CollectionName): OadrObject[] {
    return [...this.bucket(collection).values()];
  }

  // --- HTTP ------------------------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://vtn');
    const record: VtnRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.search,
      status: 0,
    };
    try {
      if (this.faults.unavailable) throw new HttpProblem(503, 'Service Unavailable');
      if (!url.pathname.startsWith(this.basePath)) throw new HttpProblem(404, 'Not Found');
      const path = url.pathname.slice(this.basePath.length).replace(/\/+$/, '') || '/';
      const [status, body, schema] = await this.route(req, path, url.searchParams, record);
      this.respond(res, record, status, body, schema);
    } catch (err) {
      const p = err instanceof HttpProblem ? err : new HttpProblem(500, 'Internal Server Error', String(err));
      if (!(err instanceof HttpProblem)) this.log.warn({ err }, 'VTN request failed');
      try {
        this.respond(res, record, p.status, problemOf(p.status, p.title, p.message), 'problem');
      } catch (fatal) {
        // never leave a client hanging, even when the VTN itself is broken
        this.invalidResponses.push(`${record.method} ${record.path}: ${String(fatal)}`);
        if (!res.headersSent) sendJson(res, 500, problemOf(500, 'Internal Server Error'));
      }
    }
  }

  private respond(
    res: ServerResponse,
    record: VtnRequest,
    status: number,
    body: unknown,
    schema: OpenAdrSchemaName | `${OpenAdrSchemaName}[]`,
  ): void {
    const [name, many] = schema.endsWith('[]') ? [schema.slice(0, -2), true] : [schema, false];
    for (const item of many ? (body as unknown[]) : [body]) {
      const problem = this.spec.check(name as OpenAdrSchemaName, item);
      if (problem) {
        this.invalidResponses.push(`${record.method} ${record.path}: ${name}: ${problem}`);
        status = 500;
        body = problemOf(500, 'Internal Server Error', `response breaks the ${name} schema: ${problem}`);
        break;
      }
    }
    record.status = status;
    this.requests.push(record);
    sendJson(res, status, body);
  }

  private async route(
    req: IncomingMessage,
    path: string,
    query: URLSearchParams,
    record: VtnRequest,
  ): Promise<[number, unknown, OpenAdrSchemaName | `${OpenAdrSchemaName}[]`]> {
    const method = req.method ?? 'GET';
    if (path === '/auth/server' && method === 'GET')
      return [200, { tokenURL: `${this.url}/auth/token` }, 'authServerInfo'];
    if (path === '/auth/token' && method === 'POST') return this.token(req);
    const [, first, id, extra] = path.split('/');
    const collection = first as CollectionName;
    if (!(first && first in COLLECTIONS) || extra !== undefined) throw new HttpProblem(404, 'Not Found');
    const grant = this.auth.verify(req.headers.authorization);
    if (!grant) throw new HttpProblem(401, 'Unauthorized', 'missing, unknown or expired bearer token');
    record.clientId = grant.clientId;
    const { response } = COLLECTIONS[collection];
    if (id === undefined && method === 'GET')
      return [200, this.search(collection, query, grant), `${response}[]`];
    if (id === undefined && method === 'POST') {
      if (collection === 'subscriptions' && this.faults.failSubscriptions)
        throw new HttpProblem(500, 'Internal Server Error', 'subscriptions are failing (injected fault)');
      return [201, this.create(collection, await this.requestBody(req), grant), response];
    }
    if (id === undefined) throw new HttpProblem(405, 'Method Not Allowed');
    if (method === 'GET') return [200, this.readable(collection, id, grant), response];
    if (method === 'PUT')
      return [200, this.update(collection, id, await this.requestBody(req), grant), response];
    if (method === 'DELETE') return [200, this.remove(collection, id, grant), response];
    throw new HttpProblem(405, 'Method Not Allowed');
  }

  /** POST /auth/token: OAuth2 client credentials (RFC 6749 4.4), form-encoded as the document asks. */
  private async token(req: IncomingMessage): Promise<[number, unknown, OpenAdrSchemaName]> {
    const form = Object.fromEntries(new URLSearchParams(await readBody(req)));
    const problem = this.spec.check('clientCredentialRequest', form);
    if (problem) {
      const error =
        form.grant_type && form.grant_type !== 'client_credentials'
          ? 'unsupported_grant_type'
          : 'invalid_request';
      return [400, { error, error_description: problem }, 'authError'];
    }
    const issued = this.auth.issue(form.client_id ?? '', form.client_secret ?? '');
    if (!issued) throw new HttpProblem(401, 'Unauthorized', 'invalid_client');
    return [
      200,
      { access_token: issued.token, token_type: 'Bearer', expires_in: issued.ttlS },
      'clientCredentialResponse',
    ];
  }

  private async requestBody(req: IncomingMessage): Promise<Record<string, unknown>> {
    const body = await readJson(req);
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw new HttpProblem(400, 'Bad Request', 'body must be a JSON object');
    return body as Record<string, unknown>;
  }

  private bucket(collection: CollectionName): Map<string, OadrObject> {
    return this.store.get(collection) as Map<string, OadrObject>;
  }

  private stamp(): string {
    // strictly increasing: two changes in one millisecond still make two revisions
    this.lastStampMs = Math.max(Date.now(), this.lastStampMs + 1);
    return new Date(this.lastStampMs).toISOString();
  }

  private search(collection: CollectionName, query: URLSearchParams, grant: TokenGrant): OadrObject[] {
    const { skip, limit } = pageOf(query);
    const targets = query.getAll('targets');
    const eq = (key: string, value: unknown) => query.get(key) === null || query.get(key) === value;
    const objects = query.getAll('objects');
    const nowMs = Date.now();
    const found = this.list(collection).filter((o) => {
      if (!this.mayRead(collection, o, grant)) return false;
      if (collection === 'programs' || collection === 'events' || collection === 'vens')
        if (!visibleTo(o, targets, grant.role === 'bl')) return false;
      if (collection === 'events' && query.get('active') === 'true' && eventEndMs(o) <= nowMs) return false;
      if (collection === 'vens' && !eq('venName', o.venName)) return false;
      if (collection === 'events' && !eq('programID', o.programID)) return false;
      if (collection === 'subscriptions') {
        if (!eq('programID', o.programID) || !eq('clientName', o.clientName)) return false;
        const ops = (o.objectOperations as { objects: string[] }[]).flatMap((x) => x.objects);
        if (objects.length > 0 && !objects.some((t) => ops.includes(t))) return false;
      }
      if (collection === 'reports') {
        if (!eq('eventID', o.eventID) || !eq('clientName', o.clientName)) return false;
        const event = this.bucket('events').get(String(o.eventID));
        if (query.get('programID') !== null && event?.programID !== query.get('programID')) return false;
      }
      return true;
    });
    return found.slice(skip, skip + limit);
  }

  private mayRead(collection: CollectionName, o: OadrObject, grant: TokenGrant): boolean {
    return grant.role === 'bl' || !COLLECTIONS[collection].owned || o.clientID === grant.clientId;
  }

  private readable(collection: CollectionName, id: string, grant: TokenGrant): OadrObject {
    const o = this.bucket(collection).get(id);
    if (!o || !this.mayRead(collection, o, grant))
      throw new HttpProblem(404, 'Not Found', `no ${collection} ${id}`);
    return o;
  }

  private validate(collection: CollectionName, request: Record<string, unknown>, grant: TokenGrant): void {
    const { request: schema, blOnly } = COLLECTIONS[collection];
    if (blOnly && grant.role !== 'bl')
      throw new HttpProblem(403, 'Forbidden', `only the business logic writes ${collection}`);
    const problem = this.spec.check(schema, request);
    if (problem) throw new HttpProblem(400, 'Bad Request', `${schema}: ${problem}`);
    const exists = (c: CollectionName, id: unknown) => this.bucket(c).has(String(id));
    if (collection === 'events' && !exists('programs', request.programID))
      throw new HttpProblem(400, 'Bad Request', `no program ${String(request.programID)}`);
    if (collection === 'reports' && !exists('events', request.eventID))
      throw new HttpProblem(400, 'Bad Request', `no event ${String(request.eventID)}`);
  }

  private unique(collection: CollectionName, request: Record<string, unknown>, exceptId?: string): void {
    const key = collection === 'programs' ? 'programName' : collection === 'vens' ? 'venName' : undefined;
    if (!key) return;
    for (const o of this.bucket(collection).values())
      if (o.id !== exceptId && o[key] === request[key])
        throw new HttpProblem(409, 'Conflict', `${key} ${String(request[key])} exists`);
  }

  private serverFields(collection: CollectionName, request: Record<string, unknown>, grant: TokenGrant) {
    if (collection === 'vens') {
      // a VEN_VEN_REQUEST takes the clientID of the token; a BL_VEN_REQUEST names it
      const { objectType: _request, ...rest } = request;
      return {
        ...rest,
        clientID: grant.role === 'bl' && request.clientID ? request.clientID : grant.clientId,
      };
    }
    return COLLECTIONS[collection].owned ? { ...request, clientID: grant.clientId } : request;
  }

  private create(
    collection: CollectionName,
    request: Record<string, unknown>,
    grant: TokenGrant,
  ): OadrObject {
    this.validate(collection, request, grant);
    this.unique(collection, request);
    const now = this.stamp();
    const o: OadrObject = {
      ...this.serverFields(collection, request, grant),
      id: `${COLLECTIONS[collection].prefix}-${this.nextId++}`,
      createdDateTime: now,
      modificationDateTime: now,
      objectType: COLLECTIONS[collection].objectType,
    };
    this.bucket(collection).set(o.id, o);
    this.changed(collection, 'CREATE', o);
    return o;
  }

  private update(
    collection: CollectionName,
    id: string,
    request: Record<string, unknown>,
    grant: TokenGrant,
  ): OadrObject {
    const old = this.readable(collection, id, grant);
    this.validate(collection, request, grant);
    this.unique(collection, request, id);
    const o: OadrObject = {
      ...this.serverFields(collection, request, grant),
      id,
      createdDateTime: old.createdDateTime,
      modificationDateTime: this.stamp(),
      objectType: old.objectType,
    };
    this.bucket(collection).set(id, o);
    this.changed(collection, 'UPDATE', o);
    return o;
  }

  private remove(collection: CollectionName, id: string, grant: TokenGrant): OadrObject {
    const o = this.readable(collection, id, grant);
    if (COLLECTIONS[collection].blOnly && grant.role !== 'bl')
      throw new HttpProblem(403, 'Forbidden', `only the business logic deletes ${collection}`);
    this.bucket(collection).delete(id);
    if (collection === 'subscriptions') this.notifier.forget(id);
    this.changed(collection, 'DELETE', o);
    return o;
  }

  /** Notifies every subscription that asked for this object type and operation (and program, and targets). */
  private changed(collection: CollectionName, operation: Op, object: OadrObject): void {
    const objectType = COLLECTIONS[collection].objectType;
    this.log.info({ objectType, operation, id: object.id }, 'VTN object changed');
    const programId = collection === 'programs' ? object.id : (object.programID as string | undefined);
    const targets = [];
    for (const sub of this.bucket('subscriptions').values()) {
      if (sub.programID && sub.programID !== programId) continue;
      if (
        sub.targets?.length &&
        object.targets?.length &&
        !sub.targets.some((t) => object.targets?.includes(t))
      )
        continue;
      const ops = sub.objectOperations as {
        objects: string[];
        operations: string[];
        callbackUrl: string;
        bearerToken?: string | null;
      }[];
      for (const op of ops)
        if (op.objects.includes(objectType) && op.operations.includes(operation))
          targets.push({ subscriptionId: sub.id, callbackUrl: op.callbackUrl, bearerToken: op.bearerToken });
    }
    if (targets.length > 0 && !this.faults.muteNotifications)
      this.notifier.notify(targets, {
        objectType,
        operation,
        object,
        ...(object.targets ? { targets: object.targets } : {}),
      });
  }
}
