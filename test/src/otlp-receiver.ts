import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import protobuf from 'protobufjs';

// the official OTLP .proto files (opentelemetry-proto), as @elastic/mockotlpserver ships them
const PROTO_ROOT = dirname(createRequire(import.meta.url).resolve('@elastic/mockotlpserver/package.json'));
const root = new protobuf.Root();
root.resolvePath = (_origin, target) => (target.startsWith('/') ? target : join(PROTO_ROOT, target));
root.loadSync(
  [
    'opentelemetry/proto/collector/trace/v1/trace_service.proto',
    'opentelemetry/proto/collector/metrics/v1/metrics_service.proto',
  ],
  { keepCase: false },
);
const TraceRequest = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
const TraceResponse = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse');
const MetricsRequest = root.lookupType(
  'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest',
);
const MetricsResponse = root.lookupType(
  'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse',
);

export type AttrValue = string | number | boolean | AttrValue[] | undefined;

/** One received span, ids as lowercase hex (the W3C `traceparent` spelling). */
export interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  attributes: Record<string, AttrValue>;
  links: { traceId: string; spanId: string }[];
  status: number;
}

/** One received metric, with its points' attributes. */
export interface ReceivedMetric {
  service: string;
  name: string;
  /** Which OTLP data field it came in: sum, gauge, histogram, … */
  type: string;
  points: { attributes: Record<string, AttrValue>; value?: number; count?: number }[];
}

interface AnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: { toNumber(): number } | number;
  doubleValue?: number;
  arrayValue?: { values?: AnyValue[] };
}
interface KeyValue {
  key: string;
  value?: AnyValue;
}

const hex = (b?: Uint8Array) => (b && b.length > 0 ? Buffer.from(b).toString('hex') : '');

// decoded fields are own properties; unset ones only show the prototype's defaults ('' , 0, false)
const has = (v: object, key: string) => Object.prototype.hasOwnProperty.call(v, key);

function valueOf(v: AnyValue | undefined): AttrValue {
  if (!v) return undefined;
  if (has(v, 'stringValue')) return v.stringValue;
  if (has(v, 'boolValue')) return v.boolValue;
  if (has(v, 'doubleValue')) return v.doubleValue;
  if (v.intValue != null && has(v, 'intValue'))
    return typeof v.intValue === 'number' ? v.intValue : v.intValue.toNumber();
  if (has(v, 'arrayValue')) return (v.arrayValue?.values ?? []).map(valueOf);
  return undefined;
}

function attributesOf(list: KeyValue[] | undefined): Record<string, AttrValue> {
  const out: Record<string, AttrValue> = {};
  for (const kv of list ?? []) out[kv.key] = valueOf(kv.value);
  return out;
}

async function bodyOf(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const body = Buffer.concat(chunks);
  return req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body;
}

/**
 * An OTLP/HTTP receiver (protobuf encoding, `POST /v1/traces` and `/v1/metrics`) that decodes every export
 * with the official OTLP definitions and keeps what it got. Anything else is refused with 415 or 404.
 */
export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  readonly metrics: ReceivedMetric[] = [];
  /** Exports that did not decode: a test expects none. */
  readonly errors: string[] = [];
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<OtlpReceiver> {
    const holder: { r?: OtlpReceiver } = {};
    const server = createServer((req, res) => {
      const path = (req.url ?? '').split('?')[0];
      if (req.method !== 'POST' || (path !== '/v1/traces' && path !== '/v1/metrics')) {
        res.writeHead(404).end();
        return;
      }
      if (!(req.headers['content-type'] ?? '').startsWith('application/x-protobuf')) {
        res.writeHead(415).end();
        return;
      }
      bodyOf(req)
        .then((body) => {
          const r = holder.r as OtlpReceiver;
          const response = path === '/v1/traces' ? r.takeTraces(body) : r.takeMetrics(body);
          res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(response);
        })
        .catch((err: Error) => {
          holder.r?.errors.push(err.message);
          res.writeHead(400).end();
        });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const r = new OtlpReceiver(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    holder.r = r;
    return r;
  }

  private takeTraces(body: Buffer): Uint8Array {
    const req = TraceRequest.decode(body) as unknown as {
      resourceSpans: {
        resource?: { attributes?: KeyValue[] };
        scopeSpans: {
          spans: {
            traceId: Uint8Array;
            spanId: Uint8Array;
            parentSpanId?: Uint8Array;
            name: string;
            kind: number;
            attributes?: KeyValue[];
            links?: { traceId: Uint8Array; spanId: Uint8Array }[];
            status?: { code?: number };
          }[];
        }[];
      }[];
    };
    for (const rs of req.resourceSpans) {
      const service = String(attributesOf(rs.resource?.attributes)['service.name'] ?? '');
      for (const ss of rs.scopeSpans)
        for (const s of ss.spans)
          this.spans.push({
            service,
            traceId: hex(s.traceId),
            spanId: hex(s.spanId),
            parentSpanId: hex(s.parentSpanId),
            name: s.name,
            kind: s.kind,
            attributes: attributesOf(s.attributes),
            links: (s.links ?? []).map((l) => ({ traceId: hex(l.traceId), spanId: hex(l.spanId) })),
            status: s.status?.code ?? 0,
          });
    }
    return TraceResponse.encode({}).finish();
  }

  private takeMetrics(body: Buffer): Uint8Array {
    type Point = {
      attributes?: KeyValue[];
      asDouble?: number;
      asInt?: number;
      count?: { toNumber(): number };
    };
    const req = MetricsRequest.decode(body) as unknown as {
      resourceMetrics: {
        resource?: { attributes?: KeyValue[] };
        scopeMetrics: { metrics: Record<string, { dataPoints?: Point[] } | string | undefined>[] }[];
      }[];
    };
    for (const rm of req.resourceMetrics) {
      const service = String(attributesOf(rm.resource?.attributes)['service.name'] ?? '');
      for (const sm of rm.scopeMetrics)
        for (const m of sm.metrics) {
          const type = ['sum', 'gauge', 'histogram', 'exponentialHistogram', 'summary'].find((t) =>
            has(m, t),
          );
          const data = (type ? m[type] : undefined) as { dataPoints?: Point[] } | undefined;
          this.metrics.push({
            service,
            name: String(m.name),
            type: type ?? 'none',
            points: (data?.dataPoints ?? []).map((p) => ({
              attributes: attributesOf(p.attributes),
              value: has(p, 'asDouble') ? p.asDouble : has(p, 'asInt') ? Number(p.asInt) : undefined,
              count: p.count == null ? undefined : Number(p.count),
            })),
          });
        }
    }
    return MetricsResponse.encode({}).finish();
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
