import type { Long, org } from '@busway/proto';

type GeneratedMetric = org.eclipse.tahu.protobuf.Payload.IMetric;

/**
 * What the bridge reads of a Sparkplug metric: a generated `Metric`, or the payload scanner's plain form of a
 * scalar one, whose 64-bit alias and timestamp are numbers.
 */
export interface MetricView extends Omit<GeneratedMetric, 'alias' | 'timestamp'> {
  alias?: Long | number | null;
  timestamp?: Long | number | null;
}

/** What the bridge reads of a Sparkplug payload, generated or scanned. */
export interface PayloadView {
  timestamp?: Long | number | null;
  seq?: Long | number | null;
  metrics: MetricView[];
  uuid?: string | null;
  body?: Uint8Array | null;
}
