import { messageOf, TransientError, type Logger } from '@busway/runtime';
import { HttpStatusError, type RedfishClient } from './client.js';
import type { EndpointConfig } from './config.js';
import { isObject, membersOf } from './discovery.js';

/**
 * The bridge's EventDestination on one service: `EventFormatType: MetricReport` to the push listener, marked with
 * Context `busway:<endpoint id>` so that one left behind by a crashed run is found and deleted before a new one is
 * made. Deleted on stop.
 */
export class PushSubscription {
  private location?: string;
  readonly context: string;

  constructor(
    private readonly client: RedfishClient,
    private readonly endpoint: EndpointConfig,
    private readonly log: Logger,
  ) {
    this.context = `busway:${endpoint.id}`;
  }

  /** Creates the subscription (after deleting earlier ones of this endpoint); returns its URI. */
  async create(subscriptionsPath: string, destination: string, signal: AbortSignal): Promise<string> {
    await this.deleteLeftovers(subscriptionsPath, signal);
    const definitions = this.endpoint.reportDefinitions.map((id) => ({
      '@odata.id': `/redfish/v1/TelemetryService/MetricReportDefinitions/${id}`,
    }));
    const res = await this.client.request('POST', subscriptionsPath, {
      signal,
      body: {
        Destination: destination,
        Protocol: 'Redfish',
        EventFormatType: 'MetricReport',
        SubscriptionType: 'RedfishEvent',
        Context: this.context,
        ...(definitions.length > 0 ? { MetricReportDefinitions: definitions } : {}),
      },
    });
    if (res.status < 200 || res.status > 299)
      throw new HttpStatusError(
        res.status,
        `creating the EventDestination: HTTP ${res.status} ${res.text.slice(0, 200)}`,
      );
    const location = res.headers.location ?? (isObject(res.json) ? res.json['@odata.id'] : undefined);
    if (typeof location !== 'string')
      throw new TransientError('the service created a subscription but did not say where');
    this.location = new URL(location, this.endpoint.url).pathname;
    this.log.info({ subscription: this.location }, 'Redfish push subscription created');
    return this.location;
  }

  /** Whether the subscription still exists (a BMC reboot may drop it). */
  async alive(signal: AbortSignal): Promise<boolean> {
    if (!this.location) return false;
    const res = await this.client.request('GET', this.location, { signal });
    if (res.status === 404) return false;
    if (res.status < 200 || res.status > 299)
      throw new HttpStatusError(res.status, `GET ${this.location}: HTTP ${res.status}`);
    return true;
  }

  /** Deletes the subscription; a failure is logged (the service drops it after its retries anyway). */
  async delete(): Promise<void> {
    const location = this.location;
    this.location = undefined;
    if (!location) return;
    try {
      const res = await this.client.request('DELETE', location);
      this.log.info({ subscription: location, status: res.status }, 'Redfish push subscription deleted');
    } catch (err) {
      this.log.warn(
        { subscription: location, err: messageOf(err) },
        'could not delete the push subscription',
      );
    }
  }

  private async deleteLeftovers(subscriptionsPath: string, signal: AbortSignal): Promise<void> {
    for (const uri of membersOf(await this.client.get(subscriptionsPath, signal))) {
      const sub = await this.client.get(uri, signal).catch(() => undefined);
      if (!isObject(sub) || sub.Context !== this.context) continue;
      await this.client.request('DELETE', uri, { signal });
      this.log.info({ subscription: uri }, 'deleted a push subscription left by an earlier run');
    }
  }
}
