import { readFileSync } from 'node:fs';
import { backoffMs, type Logger, messageOf, sleep, type WorkerRuntime } from '@busway/runtime';
import type { KubeSourceConfig } from './config.js';
import type { DeliverySummaries, EventDelivery } from './delivery.js';
import { getJson, HttpStatusError, lines, open } from './http.js';
import { safe } from './job-store.js';
import { decodePod, resourceVersionOf } from './kube-decode.js';
import type { JobView } from './lifecycle.js';
import type { JobTracker } from './tracker.js';

/** Why a watch ended: re-watch from the last resourceVersion, or re-list (410 Gone). */
type WatchEnd = 'rewatch' | 'relist' | 'stopped';

interface PodList {
  items: unknown[];
  resourceVersion: string;
  continue?: string;
}

/**
 * Follows one Kubernetes cluster's Pods the way an informer does: list (in pages of one snapshot), then watch
 * from the list's resourceVersion with bookmarks, re-watching from the last resourceVersion seen when a watch
 * ends, and listing again on `410 Gone` (an ERROR event with a 410 Status, or the HTTP status). The last
 * resourceVersion is kept in the state bucket, so a restarted bridge resumes where it stopped. A list is
 * reconciled with what was published: a pod remembered but no longer listed is over (an end inferred if none
 * was seen). Events are read one at a time: while one is being published the stream is not read, and the API
 * server's data waits in the socket.
 */
export class KubeWatcher {
  private readonly log: Logger;
  private loop?: Promise<void>;
  private failures = 0;
  private lastSavedMs = 0;

  constructor(
    private readonly rt: WorkerRuntime,
    private readonly source: KubeSourceConfig,
    private readonly tracker: JobTracker,
    private readonly delivery: EventDelivery,
    private readonly cursor: { get(): string | undefined; set(v: string): Promise<boolean> },
    private readonly summaries: DeliverySummaries,
    private readonly signal: AbortSignal,
  ) {
    this.log = rt.log.child({ source: source.id });
  }

  start(): void {
    this.log.info(
      { url: this.source.url, namespace: this.source.namespace ?? '(all)' },
      'watching Kubernetes pods',
    );
    this.loop = this.run();
  }

  async stopped(): Promise<void> {
    await this.loop;
  }

  private podsUrl(params: Record<string, string | undefined>): string {
    const base = this.source.url.replace(/\/+$/, '');
    const ns = this.source.namespace;
    const url = new URL(`${base}/api/v1/${ns ? `namespaces/${encodeURIComponent(ns)}/` : ''}pods`);
    const all = {
      labelSelector: this.source.labelSelector,
      fieldSelector: this.source.fieldSelector,
      ...params,
    };
    for (const [k, v] of Object.entries(all)) if (v !== undefined) url.searchParams.set(k, v);
    return url.toString();
  }

  private headers(): Record<string, string> {
    const token = this.source.tokenFile
      ? readFileSync(this.source.tokenFile, 'utf8').trim()
      : this.source.token;
    return token ? { authorization: `Bearer ${token}` } : {};
  }

  private async run(): Promise<void> {
    let rv = this.cursor.get();
    if (rv !== undefined)
      this.log.info({ resourceVersion: rv }, 'resuming the watch from the stored resourceVersion');
    while (!this.signal.aborted) {
      try {
        if (rv === undefined) {
          const listed = await this.listAndReconcile();
          if (listed === 'stopped') break;
          rv = listed;
        }
        const end = await this.watch(rv, (v) => (rv = v));
        if (end === 'stopped') break;
        if (end === 'relist') {
          this.rt.metrics.messages.inc({ stage: 'ingest', outcome: 'watch-gone' });
          this.log.info({ resourceVersion: rv }, '410 Gone: listing again');
          rv = undefined;
        }
        this.failures = 0;
      } catch (err) {
        if (err instanceof HttpStatusError && err.status === 410) {
          rv = undefined; // a continue token or resourceVersion too old: start over with a fresh list
          continue;
        }
        this.failures++;
        this.rt.metrics.messages.inc({ stage: 'ingest', outcome: 'read-failed' });
        this.summaries.readFailures.add(this.source.id);
        const waitMs = backoffMs(this.failures, 200, this.source.maxBackoffMs);
        if (this.failures === 1)
          this.log.warn({ err: messageOf(err), waitMs }, 'Kubernetes API request failed; retrying');
        await sleep(waitMs, this.signal);
      }
    }
    if (rv !== undefined) await this.cursor.set(rv); // where a restart resumes
  }

  /** Lists every pod (page by page), applies each, ends the remembered pods not listed; the list's resourceVersion. */
  private async listAndReconcile(): Promise<string | 'stopped'> {
    const present = new Set<string>();
    let page: PodList | undefined;
    let resourceVersion = '';
    do {
      page = await this.listPage(page?.continue);
      resourceVersion = page.resourceVersion;
      for (const item of page.items) {
        const uid = (item as { metadata?: { uid?: unknown } } | null)?.metadata?.uid;
        if (typeof uid === 'string') present.add(safe(uid));
        if (!(await this.applyObject(item, false))) return 'stopped';
      }
    } while (page.continue);
    for (const key of this.tracker.keys())
      if (!present.has(key) && !(await this.tracker.vanished(key))) return 'stopped';
    if (!(await this.cursor.set(resourceVersion))) return 'stopped';
    this.log.info({ resourceVersion, pods: present.size }, 'pods listed');
    return resourceVersion;
  }

  private async listPage(continueToken?: string): Promise<PodList> {
    const body = (await getJson(
      this.podsUrl({ limit: String(this.source.pageSize), continue: continueToken }),
      {
        headers: this.headers(),
        caFile: this.source.caFile,
        timeoutMs: this.source.timeoutMs,
        signal: this.signal,
        maxBytes: 256 * 1024 * 1024,
      },
    )) as { items?: unknown; metadata?: { resourceVersion?: unknown; continue?: unknown } } | null;
    const rv = body?.metadata?.resourceVersion;
    if (!Array.isArray(body?.items) || typeof rv !== 'string')
      throw new Error('the pod list has no items or no resourceVersion');
    const next = body.metadata?.continue;
    return {
      items: body.items,
      resourceVersion: rv,
      continue: typeof next === 'string' && next !== '' ? next : undefined,
    };
  }

  /** One watch request, read to its end. */
  private async watch(from: string, seen: (rv: string) => void): Promise<WatchEnd> {
    const res = await open(
      this.podsUrl({
        watch: 'true',
        resourceVersion: from,
        allowWatchBookmarks: 'true',
        timeoutSeconds: String(this.source.watchTimeoutS),
      }),
      {
        headers: this.headers(),
        caFile: this.source.caFile,
        timeoutMs: this.source.timeoutMs,
        signal: this.signal,
      },
    );
    if (res.statusCode === 410) {
      res.resume();
      return 'relist';
    }
    if ((res.statusCode ?? 0) < 200 || (res.statusCode ?? 0) > 299) {
      res.resume();
      throw new HttpStatusError(res.statusCode ?? 0, '', `watch: HTTP ${res.statusCode}`);
    }
    try {
      for await (const line of lines(res, 16 * 1024 * 1024)) {
        const end = await this.handleLine(line, seen);
        if (end) return end;
      }
    } catch (err) {
      if (this.signal.aborted) return 'stopped';
      throw err;
    } finally {
      res.destroy();
    }
    return this.signal.aborted ? 'stopped' : 'rewatch';
  }

  private async handleLine(line: string, seen: (rv: string) => void): Promise<WatchEnd | undefined> {
    let event: { type?: unknown; object?: unknown };
    try {
      event = JSON.parse(line) as typeof event;
    } catch (err) {
      const ok = await this.delivery.deadLetter(`line@${Date.now()}`, `kubernetes:${this.source.url}`, line, {
        code: 'decode-error',
        message: `a watch event that is not JSON: ${messageOf(err)}`,
      });
      return ok ? 'rewatch' : 'stopped'; // the stream is out of step: watch again from the last good resourceVersion
    }
    const rv = resourceVersionOf(event.object);
    switch (event.type) {
      case 'ERROR': {
        const code = (event.object as { code?: unknown } | null)?.code;
        if (code === 410) return 'relist';
        this.log.warn({ status: event.object }, 'watch ERROR event; watching again');
        return 'rewatch';
      }
      case 'BOOKMARK':
        if (rv) return this.advance(rv, seen);
        return undefined;
      case 'ADDED':
      case 'MODIFIED':
      case 'DELETED':
        if (!(await this.applyObject(event.object, event.type === 'DELETED', rv))) return 'stopped';
        if (rv) return this.advance(rv, seen);
        return undefined;
      default: {
        const ok = await this.delivery.deadLetter(
          `event@${rv ?? Date.now()}`,
          `kubernetes:${this.source.url}`,
          event,
          {
            code: 'contract-violation',
            message: `a watch event of unknown type ${JSON.stringify(event.type)}`,
          },
        );
        return ok ? undefined : 'stopped';
      }
    }
  }

  /** Keeps the resourceVersion in memory always, in the bucket at most every cursorSaveIntervalMs. */
  private async advance(rv: string, seen: (rv: string) => void): Promise<WatchEnd | undefined> {
    seen(rv);
    if (Date.now() - this.lastSavedMs < this.source.cursorSaveIntervalMs) return undefined;
    this.lastSavedMs = Date.now();
    return (await this.cursor.set(rv)) ? undefined : 'stopped';
  }

  /** Decodes a pod and publishes what it adds; a pod that does not decode is dead-lettered. False if stopped. */
  private async applyObject(obj: unknown, deleted: boolean, rv?: string): Promise<boolean> {
    let view: JobView;
    try {
      view = decodePod(obj, this.source.gpuResource, deleted);
    } catch (err) {
      const uid = (obj as { metadata?: { uid?: unknown } } | null)?.metadata?.uid;
      return this.delivery.deadLetter(
        `pod-${String(uid ?? 'unknown')}@${rv ?? Date.now()}`,
        `kubernetes:${this.source.url}/pods`,
        obj,
        {
          code: 'contract-violation',
          message: messageOf(err),
        },
      );
    }
    if (this.source.gpuPodsOnly && view.gpus === 0) return this.tracker.forget(view.key);
    const sequence = rv !== undefined && /^\d+$/.test(rv) ? Number(rv) : undefined;
    if (!(await this.tracker.apply(view, sequence))) return false;
    // a deleted pod is gone for good: nothing to remember (a re-list will not show it)
    return deleted ? this.tracker.forget(view.key) : true;
  }
}
