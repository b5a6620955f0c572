import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface HealthServer {
  readonly port: number;
  close(): Promise<void>;
}

export interface HealthOptions {
  port: number;
  host?: string;
  /** Live: the process can make progress (event loop turning). */
  live: () => boolean;
  /** Ready: connected and consuming; a load balancer or Kubernetes may send work. */
  ready: () => boolean;
  registry: Registry;
}

/** Serves /healthz, /readyz and /metrics (Prometheus text). */
export async function startHealthServer(opts: HealthOptions): Promise<HealthServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz' || path === '/readyz') {
      const ok = path === '/healthz' ? opts.live() : opts.ready();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok\n' : 'not ready\n');
      return;
    }
    if (path === '/metrics') {
      opts.registry
        .metrics()
        .then((text) => res.writeHead(200, { 'content-type': opts.registry.contentType }).end(text))
        .catch((err: Error) => res.writeHead(500).end(err.message));
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '0.0.0.0', resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
