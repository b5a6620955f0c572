import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import {
  JsonMetricsSerializer,
  ProtobufMetricsSerializer,
  type IExportMetricsServiceResponse,
} from '@opentelemetry/otlp-transformer';

export type OtlpProtocol = 'http/protobuf' | 'http/json';

/**
 * One ExportMetricsServiceRequest holding every resource. The official serializer writes one resource per
 * request; protobuf messages concatenated are one message with their repeated fields appended (the
 * protobuf encoding's merge rule), so the per-resource requests are simply joined. JSON is merged as objects.
 */
export function serializeMetrics(
  resourceMetrics: ResourceMetrics[],
  protocol: OtlpProtocol,
): { body: Uint8Array; contentType: string } {
  if (protocol === 'http/protobuf') {
    const parts = resourceMetrics.map(
      (rm) => ProtobufMetricsSerializer.serializeRequest(rm) ?? new Uint8Array(),
    );
    return { body: Buffer.concat(parts), contentType: 'application/x-protobuf' };
  }
  const decoder = new TextDecoder();
  const merged = resourceMetrics.flatMap((rm) => {
    const one = JsonMetricsSerializer.serializeRequest(rm);
    return one ? (JSON.parse(decoder.decode(one)) as { resourceMetrics: unknown[] }).resourceMetrics : [];
  });
  return { body: Buffer.from(JSON.stringify({ resourceMetrics: merged })), contentType: 'application/json' };
}

/** The receiver's answer: how many data points it rejected, and why (OTLP partial success). */
export function partialSuccessOf(body: Uint8Array, protocol: OtlpProtocol): IExportMetricsServiceResponse {
  if (body.length === 0) return {};
  try {
    return protocol === 'http/protobuf'
      ? ProtobufMetricsSerializer.deserializeResponse(body)
      : JsonMetricsSerializer.deserializeResponse(body);
  } catch {
    return {};
  }
}
