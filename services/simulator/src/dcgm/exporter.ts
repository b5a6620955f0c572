import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DCGM_FIELDS } from './fields.js';
import { gpuUuidOf } from './gpu-assets.js';

/** One GPU as dcgm-exporter labels it, with its current field values. */
export interface DcgmGpu {
  /** `Hostname` label: the node the exporter runs on. */
  hostname: string;
  /** `gpu` label: the GPU's index on its node. */
  index: number;
  /** `UUID` label, `GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`. */
  uuid: string;
  modelName: string;
  pciBusId: string;
  driverVersion: string;
  /** DCGM field name → value; a field without a value is not served (dcgm-exporter skips blanks). */
  values: Map<string, number>;
}

export interface DcgmExporterOptions {
  /** @default 0 (a free port) */
  port?: number;
  /** @default 127.0.0.1 */
  host?: string;
}

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/**
 * An NVIDIA dcgm-exporter endpoint: `GET /metrics` answers with the Prometheus text exposition (format 0.0.4)
 * that dcgm-exporter writes: one `# HELP` and `# TYPE` per field, then one series per GPU labelled `gpu`,
 * `UUID`, `pci_bus_id`, `device`, `modelName`, `Hostname` and `DCGM_FI_DRIVER_VERSION`. `GET /<hostname>/metrics`
 * serves one node's GPUs only, as that node's own exporter would. For tests: `extraText` is appended verbatim
 * (malformed input), `failWith` answers every scrape with that HTTP status.
 */
export class DcgmExporter {
  readonly gpus = new Map<string, DcgmGpu>();
  /** Scrapes answered (any status). */
  scrapes = 0;
  /** Appended verbatim to every exposition. */
  extraText = '';
  /** When set, every scrape is answered with this status and no exposition. */
  failWith?: number;

  private constructor(
    private readonly server: Server,
    readonly host: string,
    readonly port: number,
  ) {}

  static async start(opts: DcgmExporterOptions = {}): Promise<DcgmExporter> {
    const host = opts.host ?? '127.0.0.1';
    const holder: { exporter?: DcgmExporter } = {};
    const server = createServer((req, res) => holder.exporter?.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, host, () => resolve());
    });
    const exporter = new DcgmExporter(server, host, (server.address() as AddressInfo).port);
    holder.exporter = exporter;
    return exporter;
  }

  /** `http://host:port/metrics`: every GPU. */
  get url(): string {
    return `http://${this.host}:${this.port}/metrics`;
  }

  /** The URL of one node's own exporter. */
  urlOf(hostname: string): string {
    return `http://${this.host}:${this.port}/${encodeURIComponent(hostname)}/metrics`;
  }

  /** Adds a GPU (or returns the one already there) with labels derived from its node and index. */
  gpu(hostname: string, index: number, modelName = 'NVIDIA H100 80GB HBM3'): DcgmGpu {
    const key = `${hostname}/${index}`;
    let g = this.gpus.get(key);
    if (!g) {
      g = {
        hostname,
        index,
        uuid: gpuUuidOf(hostname, index),
        modelName,
        pciBusId: `00000000:${(0x18 + index * 0x10).toString(16).toUpperCase().padStart(2, '0')}:00.0`,
        driverVersion: '550.90.07',
        values: new Map(),
      };
      this.gpus.set(key, g);
    }
    return g;
  }

  set(hostname: string, index: number, field: string, value: number): void {
    this.gpu(hostname, index).values.set(field, value);
  }

  /** The exposition of the given GPUs (all when no hostname is given). */
  render(hostname?: string): string {
    const gpus = [...this.gpus.values()]
      .filter((g) => hostname === undefined || g.hostname === hostname)
      .sort((a, b) => a.hostname.localeCompare(b.hostname) || a.index - b.index);
    const lines: string[] = [];
    for (const [field, def] of Object.entries(DCGM_FIELDS)) {
      const serving = gpus.filter((g) => g.values.has(field));
      if (serving.length === 0) continue;
      lines.push(`# HELP ${field} ${def.help}`, `# TYPE ${field} ${def.type}`);
      for (const g of serving) {
        const v = g.values.get(field) ?? 0;
        const labels = [
          `gpu="${g.index}"`,
          `UUID="${g.uuid}"`,
          `pci_bus_id="${g.pciBusId}"`,
          `device="nvidia${g.index}"`,
          `modelName="${escapeLabel(g.modelName)}"`,
          `Hostname="${escapeLabel(g.hostname)}"`,
          `DCGM_FI_DRIVER_VERSION="${g.driverVersion}"`,
        ].join(',');
        lines.push(`${field}{${labels}} ${def.format === 'int' ? Math.round(v).toFixed(0) : v.toFixed(6)}`);
      }
    }
    return `${lines.join('\n')}\n${this.extraText}`;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const perNode = /^\/([^/]+)\/metrics$/.exec(path);
    if (req.method !== 'GET' || (path !== '/metrics' && !perNode)) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found\n');
      return;
    }
    this.scrapes++;
    if (this.failWith !== undefined) {
      res.writeHead(this.failWith, { 'content-type': 'text/plain' }).end('exporter failure\n');
      return;
    }
    const body = this.render(perNode ? decodeURIComponent(perNode[1] ?? '') : undefined);
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(body);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
