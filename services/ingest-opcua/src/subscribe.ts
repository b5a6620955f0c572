import {
  AttributeIds,
  DataChangeFilter,
  DataChangeTrigger,
  DeadbandType,
  makeBrowsePath,
  MonitoringMode,
  TimestampsToReturn,
  type ClientSession,
  type ClientSubscription,
  type ClientSubscriptionOptions,
} from 'node-opcua';
import type { Logger } from '@busway/runtime';
import {
  canonicalNodeId,
  pointNameOf,
  type DeadbandConfig,
  type EndpointConfig,
  type ItemConfig,
} from './config.js';
import type { PointRef } from './convert.js';
import { unitOfEuInformation } from './units.js';

/** A configured item with its point identity; `unit` is updated from the node's EngineeringUnits. */
export interface Point extends PointRef {
  item: ItemConfig;
}

/** Requests per service call, below the operation limits of small servers. */
const CHUNK = 100;
/** How often the server confirms a quiet subscription is alive. */
const KEEPALIVE_MS = 5000;

export function pointsOf(endpoint: EndpointConfig): Point[] {
  return endpoint.items.map((item) => {
    const nodeId = canonicalNodeId(item.nodeId);
    return {
      item,
      nodeId,
      pointId: `opcua:${endpoint.id}:${pointNameOf(item)}`,
      address: `${endpoint.url}#${nodeId}`,
      sourceId: endpoint.id,
      unit: item.unit,
    };
  });
}

export function subscriptionOptionsOf(endpoint: EndpointConfig): ClientSubscriptionOptions {
  const interval = endpoint.publishingIntervalMs;
  // node-opcua refuses a keep-alive period longer than the session timeout: at most half of it
  const keepAlive = Math.max(
    2,
    Math.min(Math.ceil(KEEPALIVE_MS / interval), Math.floor(endpoint.sessionTimeoutMs / (2 * interval))),
  );
  return {
    requestedPublishingInterval: interval,
    requestedMaxKeepAliveCount: keepAlive,
    // the subscription outlives its session, so a new session can take it over after a long outage
    requestedLifetimeCount: Math.max(3 * keepAlive, Math.ceil((3 * endpoint.sessionTimeoutMs) / interval)),
    maxNotificationsPerPublish: 0,
    publishingEnabled: true,
    priority: 10,
  };
}

export function filterOf(deadband: DeadbandConfig | undefined): DataChangeFilter | null {
  if (!deadband) return null;
  return new DataChangeFilter({
    trigger: DataChangeTrigger.StatusValue,
    deadbandType: deadband.type === 'absolute' ? DeadbandType.Absolute : DeadbandType.Percent,
    deadbandValue: deadband.value,
  });
}

function chunks<T>(all: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < all.length; i += CHUNK) out.push(all.slice(i, i + CHUNK));
  return out;
}

/** Sets each point's unit from its node's EngineeringUnits property, where the node has one. */
export async function readUnits(session: ClientSession, points: Point[], log: Logger): Promise<void> {
  for (const part of chunks(points)) {
    try {
      const paths = part.map((p) => makeBrowsePath(p.nodeId, '.EngineeringUnits'));
      const found = await session.translateBrowsePath(paths);
      const withEu = part.flatMap((point, i) => {
        const target = found[i]?.statusCode.isGood() ? found[i]?.targets?.[0]?.targetId : undefined;
        return target ? [{ point, target }] : [];
      });
      if (withEu.length === 0) continue;
      const values = await session.read(
        withEu.map(({ target }) => ({ nodeId: target, attributeId: AttributeIds.Value })),
      );
      withEu.forEach(({ point }, i) => {
        point.unit = unitOfEuInformation(values[i]?.value.value) ?? point.item.unit;
      });
    } catch (err) {
      log.warn(
        { err: (err as Error).message },
        'could not read EngineeringUnits; using the configured units',
      );
    }
  }
}

/** Creates one monitored item per point; returns how many the server accepted (the others are logged). */
export async function monitorPoints(
  subscription: ClientSubscription,
  points: Point[],
  log: Logger,
): Promise<number> {
  let accepted = 0;
  for (const part of chunks(points)) {
    const items = await Promise.all(
      part.map((p) =>
        subscription.monitor(
          { nodeId: p.nodeId, attributeId: AttributeIds.Value },
          {
            samplingInterval: p.item.samplingIntervalMs,
            queueSize: p.item.queueSize,
            discardOldest: true,
            filter: filterOf(p.item.deadband),
          },
          TimestampsToReturn.Source,
          MonitoringMode.Reporting,
        ),
      ),
    );
    items.forEach((m, i) => {
      if (m.statusCode.isGood()) accepted++;
      else
        log.warn(
          { nodeId: part[i]?.nodeId, status: m.statusCode.name },
          'the server refused to monitor a node; it reports nothing',
        );
    });
  }
  return accepted;
}
