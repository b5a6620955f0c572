import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { podMatches, type Pod } from './kube-pods.js';

export interface KubeApiServerOptions {
  port?: number;
  /** @default 127.0.0.1 */
  host?: string;
  /** Bearer token the server accepts. @default sim-token */
  token?: string;
  /** How often an open watch that asked for bookmarks gets one. @default 1000 */
  bookmarkIntervalMs?: number;
  /** Changes kept for watches to resume from; older ones are compacted away, as etcd does. @default 10000 */
  maxHistory?: number;
}

type WatchType = 'ADDED' | 'MODIFIED' | 'DELETED';
interface Change {
  rv: number;
  type: WatchType;
  pod: Pod;
}
interface Watch {
  res: ServerResponse;
  ns?: string;
  labels?: string;
  fields?: string;
  bookmarks?: boolean;
}

const clone = <T>(v: T): T => structuredClone(v);
const status = (code: number, reason: string, message: string) => ({
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message,
  reason,
  code,
});

/**
 * The Pods part of a Kubernetes API server, as a test peer and for the simulator: `GET /api/v1/pods` and
 * `GET /api/v1/namespaces/<ns>/pods` list (with `limit` / `continue` pages of one snapshot, `labelSelector`,
 * `fieldSelector`), and with `watch=true` stream newline-delimited JSON watch events over a chunked response:
 * ADDED / MODIFIED / DELETED after `resourceVersion`, BOOKMARK events when `allowWatchBookmarks` is set, the
 * stream ended after `timeoutSeconds`. Every change bumps one global resourceVersion and is kept in a history
 * until `compact()`: a watch or a continue token from before it gets `410 Gone` (an ERROR event carrying a 410
 * Status, as the API server sends it, or with `goneAsHttpStatus` the HTTP status itself). Bearer token
 * authentication (401 otherwise). Pods are changed through methods (`create`, `update`, `delete`).
 */
export class KubeApiServer {
  readonly pods = new Map<string, Pod>();
  /** Answer a watch from a compacted resourceVersion with HTTP 410 instead of an ERROR event. */
  goneAsHttpStatus = false;
  /** Requests answered, for tests. */
  readonly requests: { watch: boolean; resourceVersion?: string; continue?: string }[] = [];
  private rv = 100;
  private compactedRv = 0;
  private history: Change[] = [];
  private readonly watches = new Set<Watch>();
  private readonly snapshots = new Map<number, Pod[]>();
  private readonly bookmarks: NodeJS.Timeout;

  private constructor(
    private readonly server: Server,
    readonly host: string,
    readonly port: number,
    readonly token: string,
    bookmarkIntervalMs: number,
    private readonly maxHistory: number,
  ) {
    this.bookmarks = setInterval(() => this.bookmarkAll(), bookmarkIntervalMs);
    this.bookmarks.unref();
  }

  static async start(opts: KubeApiServerOptions = {}): Promise<KubeApiServer> {
    const host = opts.host ?? '127.0.0.1';
    const holder: { s?: KubeApiServer } = {};
    const server = createServer((req, res) => holder.s?.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, host, () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    const s = new KubeApiServer(
      server,
      host,
      port,
      opts.token ?? 'sim-token',
      opts.bookmarkIntervalMs ?? 1000,
      opts.maxHistory ?? 10_000,
    );
    holder.s = s;
    return s;
  }

  get url(): string {
    return `http://${this.host}:${this.port}`;
  }

  get resourceVersion(): string {
    return String(this.rv);
  }

  /** Open watch streams. */
  get watching(): number {
    return this.watches.size;
  }

  create(pod: Pod): Pod {
    const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
    if (this.pods.has(key)) throw new Error(`pod ${key} exists`);
    pod.metadata.uid ||= randomUUID();
    this.pods.set(key, pod);
    return this.record('ADDED', pod);
  }

  update(namespace: string, name: string, change: (pod: Pod) => void): Pod {
    const pod = this.pods.get(`${namespace}/${name}`);
    if (!pod) throw new Error(`no pod ${namespace}/${name}`);
    change(pod);
    return this.record('MODIFIED', pod);
  }

  /** Removes the pod (its last state is what the DELETED event carries). */
  delete(namespace: string, name: string, atMs = Date.now()): Pod {
    const key = `${namespace}/${name}`;
    const pod = this.pods.get(key);
    if (!pod) throw new Error(`no pod ${key}`);
    pod.metadata.deletionTimestamp ??= new Date(atMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
    this.pods.delete(key);
    return this.record('DELETED', pod);
  }

  /**
   * Forgets the history (etcd compaction; other resources' writes move the revision on too): a watch or a
   * continue token from any resourceVersion handed out so far is 410 Gone; a fresh list's is watchable.
   */
  compact(): void {
    this.compactedRv = ++this.rv;
    this.history = [];
    this.snapshots.clear();
  }

  /** Ends every open watch stream, as an API server restart or a load balancer timeout would. */
  closeWatches(): void {
    for (const w of this.watches) w.res.end();
    this.watches.clear();
  }

  private record(type: WatchType, pod: Pod): Pod {
    pod.metadata.resourceVersion = String(++this.rv);
    const change = { rv: this.rv, type, pod: clone(pod) };
    this.history.push(change);
    if (this.history.length > this.maxHistory) {
      const dropped = this.history.splice(0, this.history.length - this.maxHistory);
      this.compactedRv = dropped.at(-1)?.rv ?? this.compactedRv;
    }
    for (const w of this.watches) if (podMatches(change.pod, w.ns, w.labels, w.fields)) this.send(w, change);
    return clone(pod);
  }

  private send(w: Watch, c: { type: string; pod: unknown }): void {
    w.res.write(`${JSON.stringify({ type: c.type, object: c.pod })}\n`);
  }

  private bookmarkAll(): void {
    for (const w of this.watches) {
      if (!w.bookmarks) continue;
      const object = { kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: this.resourceVersion } };
      w.res.write(`${JSON.stringify({ type: 'BOOKMARK', object })}\n`);
    }
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const json = (code: number, body: unknown) =>
      res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    const route = /^\/api\/v1\/(?:namespaces\/([^/]+)\/)?pods\/?$/.exec(url.pathname);
    if (req.method !== 'GET' || !route)
      return void json(404, status(404, 'NotFound', 'the server could not find the requested resource'));
    if (req.headers.authorization !== `Bearer ${this.token}`)
      return void json(401, status(401, 'Unauthorized', 'Unauthorized'));
    const q = url.searchParams;
    const ns = route[1] ? decodeURIComponent(route[1]) : undefined;
    const labels = q.get('labelSelector') ?? undefined;
    const fields = q.get('fieldSelector') ?? undefined;
    const watch = q.get('watch') === 'true' || q.get('watch') === '1';
    this.requests.push({
      watch,
      resourceVersion: q.get('resourceVersion') ?? undefined,
      continue: q.get('continue') ?? undefined,
    });
    if (watch) return this.watch(res, q, { res, ns, labels, fields });
    this.list(json, q, ns, labels, fields);
  }

  private list(
    json: (code: number, body: unknown) => void,
    q: URLSearchParams,
    ns?: string,
    labels?: string,
    fields?: string,
  ): void {
    const limit = Number(q.get('limit') ?? 0);
    let rv = this.rv;
    let offset = 0;
    let items: Pod[];
    const token = q.get('continue');
    if (token) {
      const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
        rv: number;
        offset: number;
      };
      const snapshot = this.snapshots.get(parsed.rv);
      if (!snapshot || parsed.rv < this.compactedRv)
        return json(
          410,
          status(
            410,
            'Expired',
            'The provided continue parameter is too old to display a consistent list result.',
          ),
        );
      ({ rv, offset } = parsed);
      items = snapshot;
    } else {
      items = [...this.pods.values()]
        .filter((p) => podMatches(p, ns, labels, fields))
        .sort((a, b) =>
          `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(
            `${b.metadata.namespace}/${b.metadata.name}`,
          ),
        )
        .map(clone);
      if (limit > 0 && items.length > limit) this.snapshots.set(rv, items);
    }
    const page = limit > 0 ? items.slice(offset, offset + limit) : items.slice(offset);
    const more = limit > 0 && offset + limit < items.length;
    json(200, {
      kind: 'PodList',
      apiVersion: 'v1',
      metadata: {
        resourceVersion: String(rv),
        ...(more
          ? {
              continue: Buffer.from(JSON.stringify({ rv, offset: offset + limit })).toString('base64url'),
              remainingItemCount: items.length - offset - limit,
            }
          : {}),
      },
      items: page,
    });
  }

  private watch(res: ServerResponse, q: URLSearchParams, w: Watch): void {
    const from = q.get('resourceVersion') ?? '';
    const fromRv = Number(from);
    if (from !== '' && from !== '0' && fromRv < this.compactedRv) {
      const gone = status(410, 'Expired', `too old resource version: ${from} (${this.compactedRv})`);
      if (this.goneAsHttpStatus) {
        res.writeHead(410, { 'content-type': 'application/json' }).end(JSON.stringify(gone));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`${JSON.stringify({ type: 'ERROR', object: gone })}\n`);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    if (from === '' || from === '0') {
      // "most recent": the current state as synthetic ADDED events, then the changes after it
      for (const pod of this.pods.values())
        if (podMatches(pod, w.ns, w.labels, w.fields)) this.send(w, { type: 'ADDED', pod });
    } else {
      for (const c of this.history)
        if (c.rv > fromRv && podMatches(c.pod, w.ns, w.labels, w.fields)) this.send(w, c);
    }
    w.bookmarks = q.get('allowWatchBookmarks') === 'true';
    this.watches.add(w);
    const timeoutS = Number(q.get('timeoutSeconds') ?? 0);
    const timer = timeoutS > 0 ? setTimeout(() => res.end(), timeoutS * 1000) : undefined;
    res.on('close', () => {
      clearTimeout(timer);
      this.watches.delete(w);
    });
  }

  async close(): Promise<void> {
    clearInterval(this.bookmarks);
    this.closeWatches();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
