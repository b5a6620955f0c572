import { collectionOf, errorOf, ROOT, STANDARD_METRICS } from './model.js';
import type { Handler, Reply, RedfishService } from './service.js';

const notFound = (what: string): Reply => ({
  status: 404,
  body: errorOf('ResourceMissingAtURI', `${what} does not exist`),
});
const ok = (body: unknown): Reply => ({ status: 200, body });
const found = (body: unknown, what: string): Reply => (body === undefined ? notFound(what) : ok(body));
const lastOf = (url: URL) => decodeURIComponent(url.pathname.replace(/\/+$/, '').split('/').pop() ?? '');
const chassisOf = (url: URL) => decodeURIComponent(url.pathname.split('/')[4] ?? '');

/** The service's resources by URI pattern and method (the SSE GET is answered by the service itself). */
export function resourceRoutes(s: RedfishService): [RegExp, Record<string, Handler>][] {
  const telemetry = s.features.telemetry;
  const routes: [RegExp, Record<string, Handler>][] = [
    [/^\/redfish$/, { GET: () => ok({ v1: `${ROOT}/` }) }],
    [/^\/redfish\/v1$/, { GET: () => ok(serviceRoot(s)) }],
    [/^\/redfish\/v1\/SessionService$/, { GET: () => ok(sessionService()) }],
    [
      /^\/redfish\/v1\/SessionService\/Sessions$/,
      {
        GET: () =>
          ok(
            collectionOf(
              `${ROOT}/SessionService/Sessions`,
              'SessionCollection.SessionCollection',
              s.sessionIds().map((id) => `${ROOT}/SessionService/Sessions/${id}`),
            ),
          ),
        POST: (_req, _url, body) => {
          const session = s.login(body);
          if (!session)
            return { status: 401, body: errorOf('NoValidSession', 'wrong user name or password') };
          return {
            status: 201,
            headers: { 'X-Auth-Token': session.token, Location: session.location },
            body: {
              '@odata.type': '#Session.v1_7_0.Session',
              '@odata.id': session.location,
              Id: session.id,
              Name: 'User Session',
            },
          };
        },
      },
    ],
    [
      /^\/redfish\/v1\/SessionService\/Sessions\/[^/]+$/,
      { DELETE: (_req, url) => (s.logout(lastOf(url)) ? { status: 204 } : notFound('session')) },
    ],
    [/^\/redfish\/v1\/EventService$/, { GET: () => ok(eventService(s)) }],
    [
      /^\/redfish\/v1\/Chassis$/,
      {
        GET: () =>
          ok(
            collectionOf(
              `${ROOT}/Chassis`,
              'ChassisCollection.ChassisCollection',
              [...s.chassis.keys()].map((id) => `${ROOT}/Chassis/${id}`),
            ),
          ),
      },
    ],
    [
      /^\/redfish\/v1\/Chassis\/[^/]+$/,
      { GET: (_r, url) => found(s.chassisResource(lastOf(url)), 'chassis') },
    ],
    [
      /^\/redfish\/v1\/Chassis\/[^/]+\/Power$/,
      { GET: (_r, url) => found(s.power(chassisOf(url)), 'chassis') },
    ],
    [
      /^\/redfish\/v1\/Chassis\/[^/]+\/Thermal$/,
      { GET: (_r, url) => found(s.thermal(chassisOf(url)), 'chassis') },
    ],
  ];
  if (s.features.sse) routes.push([/^\/redfish\/v1\/EventService\/SSE$/, { GET: () => ({ status: 500 }) }]);
  if (s.features.subscriptions) routes.push(...subscriptionRoutes(s));
  if (telemetry) routes.push(...telemetryRoutes(s));
  return routes;
}

function subscriptionRoutes(s: RedfishService): [RegExp, Record<string, Handler>][] {
  const path = `${ROOT}/EventService/Subscriptions`;
  return [
    [
      /^\/redfish\/v1\/EventService\/Subscriptions$/,
      {
        GET: () =>
          ok(
            collectionOf(
              path,
              'EventDestinationCollection.EventDestinationCollection',
              [...s.events.subscriptions.keys()].map((id) => `${path}/${id}`),
            ),
          ),
        POST: (_req, _url, body) => {
          const sub = s.events.subscribe((body ?? {}) as Record<string, unknown>);
          if (typeof sub === 'string') return { status: 400, body: errorOf('PropertyValueNotInList', sub) };
          return { status: 201, headers: { Location: `${path}/${sub.id}` }, body: sub.resource };
        },
      },
    ],
    [
      /^\/redfish\/v1\/EventService\/Subscriptions\/[^/]+$/,
      {
        GET: (_r, url) => found(s.events.subscriptions.get(lastOf(url))?.resource, 'subscription'),
        DELETE: (_r, url) => (s.events.unsubscribe(lastOf(url)) ? { status: 204 } : notFound('subscription')),
      },
    ],
  ];
}

function telemetryRoutes(s: RedfishService): [RegExp, Record<string, Handler>][] {
  const base = `${ROOT}/TelemetryService`;
  const definition = (id: string) => ({
    '@odata.type': '#MetricReportDefinition.v1_4_6.MetricReportDefinition',
    '@odata.id': `${base}/MetricReportDefinitions/${id}`,
    Id: id,
    Name: id,
    MetricReportDefinitionType: 'Periodic',
    ReportActions: ['RedfishEvent', 'LogToMetricReportsCollection'],
    ReportUpdates: 'Overwrite',
    MetricProperties: [
      `${ROOT}/Chassis/{ChassisId}/Power#/PowerControl/0/PowerConsumedWatts`,
      `${ROOT}/Chassis/{ChassisId}/Thermal#/Temperatures/{SensorIndex}/ReadingCelsius`,
    ],
    Wildcards: [{ Name: 'ChassisId', Values: [...s.chassis.keys()] }],
    MetricReport: { '@odata.id': `${base}/MetricReports/${id}` },
  });
  const metricDefinition = (id: string) => {
    const m = STANDARD_METRICS.find((x) => x.metricId === id);
    return (
      m && {
        '@odata.type': '#MetricDefinition.v1_3_4.MetricDefinition',
        '@odata.id': `${base}/MetricDefinitions/${id}`,
        Id: id,
        Name: id,
        MetricType: 'Numeric',
        MetricDataType: 'Decimal',
        Units: m.units,
      }
    );
  };
  return [
    [
      /^\/redfish\/v1\/TelemetryService$/,
      {
        GET: () =>
          ok({
            '@odata.type': '#TelemetryService.v1_3_4.TelemetryService',
            '@odata.id': base,
            Id: 'TelemetryService',
            Name: 'Telemetry Service',
            ServiceEnabled: true,
            MetricReports: { '@odata.id': `${base}/MetricReports` },
            MetricReportDefinitions: { '@odata.id': `${base}/MetricReportDefinitions` },
            MetricDefinitions: { '@odata.id': `${base}/MetricDefinitions` },
          }),
      },
    ],
    [
      /^\/redfish\/v1\/TelemetryService\/MetricReports$/,
      {
        GET: () =>
          ok(
            collectionOf(
              `${base}/MetricReports`,
              'MetricReportCollection.MetricReportCollection',
              s.reportDefinitions
                .filter((id) => s.latestReport(id))
                .map((id) => `${base}/MetricReports/${id}`),
            ),
          ),
      },
    ],
    [
      /^\/redfish\/v1\/TelemetryService\/MetricReports\/[^/]+$/,
      { GET: (_r, url) => found(s.latestReport(lastOf(url)), 'metric report') },
    ],
    [
      /^\/redfish\/v1\/TelemetryService\/MetricReportDefinitions$/,
      {
        GET: () =>
          ok(
            collectionOf(
              `${base}/MetricReportDefinitions`,
              'MetricReportDefinitionCollection.MetricReportDefinitionCollection',
              s.reportDefinitions.map((id) => `${base}/MetricReportDefinitions/${id}`),
            ),
          ),
      },
    ],
    [
      /^\/redfish\/v1\/TelemetryService\/MetricReportDefinitions\/[^/]+$/,
      {
        GET: (_r, url) =>
          s.reportDefinitions.includes(lastOf(url)) ? ok(definition(lastOf(url))) : notFound('definition'),
      },
    ],
    [
      /^\/redfish\/v1\/TelemetryService\/MetricDefinitions$/,
      {
        GET: () =>
          ok(
            collectionOf(
              `${base}/MetricDefinitions`,
              'MetricDefinitionCollection.MetricDefinitionCollection',
              STANDARD_METRICS.map((m) => `${base}/MetricDefinitions/${m.metricId}`),
            ),
          ),
      },
    ],
    [
      /^\/redfish\/v1\/TelemetryService\/MetricDefinitions\/[^/]+$/,
      { GET: (_r, url) => found(metricDefinition(lastOf(url)), 'metric definition') },
    ],
  ];
}

function serviceRoot(s: RedfishService): Record<string, unknown> {
  return {
    '@odata.type': '#ServiceRoot.v1_16_0.ServiceRoot',
    '@odata.id': `${ROOT}/`,
    Id: 'RootService',
    Name: 'Busway simulated BMC',
    RedfishVersion: '1.18.0',
    Chassis: { '@odata.id': `${ROOT}/Chassis` },
    SessionService: { '@odata.id': `${ROOT}/SessionService` },
    EventService: { '@odata.id': `${ROOT}/EventService` },
    ...(s.features.telemetry ? { TelemetryService: { '@odata.id': `${ROOT}/TelemetryService` } } : {}),
    Links: { Sessions: { '@odata.id': `${ROOT}/SessionService/Sessions` } },
  };
}

function sessionService(): Record<string, unknown> {
  return {
    '@odata.type': '#SessionService.v1_1_9.SessionService',
    '@odata.id': `${ROOT}/SessionService`,
    Id: 'SessionService',
    Name: 'Session Service',
    ServiceEnabled: true,
    SessionTimeout: 1800,
    Sessions: { '@odata.id': `${ROOT}/SessionService/Sessions` },
  };
}

function eventService(s: RedfishService): Record<string, unknown> {
  return {
    '@odata.type': '#EventService.v1_10_0.EventService',
    '@odata.id': `${ROOT}/EventService`,
    Id: 'EventService',
    Name: 'Event Service',
    ServiceEnabled: true,
    EventFormatTypes: ['Event', 'MetricReport'],
    DeliveryRetryAttempts: 3,
    DeliveryRetryIntervalSeconds: 1,
    ...(s.features.sse ? { ServerSentEventUri: `${ROOT}/EventService/SSE` } : {}),
    ...(s.features.subscriptions
      ? { Subscriptions: { '@odata.id': `${ROOT}/EventService/Subscriptions` } }
      : {}),
  };
}
