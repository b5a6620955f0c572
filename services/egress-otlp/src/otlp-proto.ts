// Test support: decodes OTLP export requests with the official opentelemetry-proto definitions, as shipped in
// @elastic/mockotlpserver (a copy of open-telemetry/opentelemetry-proto), loaded by protobufjs.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import protobuf from 'protobufjs';

const base = dirname(createRequire(import.meta.url).resolve('@elastic/mockotlpserver/package.json'));
const root = new protobuf.Root();
root.resolvePath = (_origin, target) => join(base, target); // the .proto imports are relative to the package
root.loadSync('opentelemetry/proto/collector/metrics/v1/metrics_service.proto', { keepCase: false });
const Request = root.lookupType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest');
const Response = root.lookupType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse');

export interface KeyValue {
  key: string;
  value: { stringValue?: string; intValue?: string; doubleValue?: number; boolValue?: boolean };
}
export interface NumberDataPoint {
  startTimeUnixNano: string;
  timeUnixNano: string;
  asDouble?: number;
  asInt?: string;
  attributes?: KeyValue[];
}
export interface Metric {
  name: string;
  description?: string;
  unit?: string;
  gauge?: { dataPoints: NumberDataPoint[] };
  sum?: { dataPoints: NumberDataPoint[]; aggregationTemporality: string; isMonotonic?: boolean };
}
export interface ExportRequest {
  resourceMetrics: {
    resource: { attributes: KeyValue[] };
    scopeMetrics: { scope: { name: string; version?: string }; metrics: Metric[] }[];
  }[];
}

const OPTIONS = { longs: String, enums: String, defaults: false, arrays: true };

/** An OTLP/HTTP protobuf body, decoded by the official schema. */
export function decodeProtobufRequest(body: Uint8Array): ExportRequest {
  return Request.toObject(Request.decode(body), OPTIONS) as ExportRequest;
}

/** An OTLP/HTTP JSON body, read through the same official schema (proto3 JSON mapping, lowerCamelCase). */
export function decodeJsonRequest(body: string): ExportRequest {
  const message = Request.fromObject(JSON.parse(body) as Record<string, unknown>);
  return Request.toObject(message, OPTIONS) as ExportRequest;
}

/** An ExportMetricsServiceResponse with partial success, encoded by the official schema. */
export function encodePartialSuccess(rejectedDataPoints: number, errorMessage: string): Uint8Array {
  return Response.encode(
    Response.fromObject({ partialSuccess: { rejectedDataPoints, errorMessage } }),
  ).finish();
}

export const attrsOf = (kvs: KeyValue[] | undefined): Record<string, string> =>
  Object.fromEntries(
    (kvs ?? []).map((kv) => [
      kv.key,
      kv.value.stringValue ?? String(kv.value.intValue ?? kv.value.doubleValue ?? kv.value.boolValue),
    ]),
  );
