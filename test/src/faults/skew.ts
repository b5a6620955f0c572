// A source with a skewed clock: a registered Sparkplug edge node whose data timestamps are an hour ahead.
import { busway, msFromTimeNs } from '@busway/proto';
import type { SiteModel } from '@busway/registry';
import { SparkplugEdgeNode, type DeviceDef } from '@busway/simulator';
import type { Check, Scenario } from './scenario.js';
import { sleep } from './scenario.js';
import { SITE } from './stack.js';

const GROUP = `${SITE}-h1`;
const EDGE = 'skew-gw';
const DEVICE: DeviceDef = {
  id: 'skew-sensor',
  edge: EDGE,
  points: [{ name: 'inlet-temp', unit: 'Cel', metric: 'temperature.air.inlet', kind: 'thermal' }],
};
const POINT = `sparkplug:${GROUP}/${EDGE}/${DEVICE.id}:inlet-temp`;
/** The normalizer's default: a time further ahead of its ingest time than this is clock skew. */
const MAX_FUTURE_SKEW_MS = 5000;

/** The skewed sensor sits in the rack of the plant's first sensor: it shares that rack's ordering source. */
function withSkewedSensor(model: SiteModel): SiteModel {
  const home = model.assets.find((a) => a.class === 'sensor');
  if (!home) throw new Error('the simulated site model has no sensor to place the skewed one beside');
  return {
    ...model,
    assets: [...model.assets, { ...home, id: DEVICE.id, name: 'sensor with a skewed clock' }],
    points: [
      ...model.points,
      { pointId: POINT, asset: DEVICE.id, metric: 'temperature.air.inlet', unit: 'Cel' },
    ],
  };
}

export function clockSkew(skewMs = 3_600_000, durationMs = 15_000): Scenario {
  return {
    name: 'clock-skew',
    title: `a registered edge node stamps its data ${skewMs / 60_000} min ahead, for ${durationMs / 1000} s`,
    watch: 'UNS',
    extendModel: withSkewedSensor,
    async inject({ stack, monitor, log }) {
      const node = new SparkplugEdgeNode(stack.broker.url, GROUP, EDGE, [DEVICE], 7);
      await node.connect();
      const faultAt = Date.now();
      let sent = 0;
      while (Date.now() - faultAt < durationMs) {
        sent += await node.publish(DEVICE, [
          { name: 'inlet-temp', value: 24 + Math.sin(sent / 5), timeMs: Date.now() + skewMs },
        ]);
        await sleep(250);
      }
      await node.close();
      log(`skewed edge node sent ${sent} samples ${skewMs} ms ahead`);
      return {
        faultAt,
        repairedAt: Date.now(),
        notes: [`${sent} samples stamped ${skewMs} ms ahead`],
        checks: (ledger): Check[] => {
          // skewed at the source: the bridge keeps the source's time (ms) as a value's sequence, the normalizer
          // never clamps that
          const skewed = ledger.norm.filter(
            (s) =>
              s.pointId === POINT &&
              s.quality !== busway.v1.Quality.QUALITY_STALE && // the NDEATH's stale copy is stamped at ingest
              !(s.flags ?? []).includes('null') && // the birth's "no value yet": its sequence is its time in ns
              Number(s.sequence) - msFromTimeNs(s.ingestTimeNs) > MAX_FUTURE_SKEW_MS,
          );
          const unclamped = skewed.filter(
            (s) => msFromTimeNs(s.eventTimeNs) - msFromTimeNs(s.ingestTimeNs) > MAX_FUTURE_SKEW_MS,
          );
          const unflagged = skewed.filter((s) => !(s.flags ?? []).includes('clock-skew'));
          const lateOthers = ledger.ordered.filter(
            (o) => o.subject.startsWith('ordered.v1.late.') && o.sample.pointId !== POINT,
          );
          const wm = monitor.watermarkLagS;
          return [
            {
              name: 'the skewed samples reached NORM flagged clock-skew and clamped to their ingest time',
              ok: skewed.length === sent && unclamped.length === 0 && unflagged.length === 0,
              detail: `${skewed.length} at NORM of ${sent} sent; ${unclamped.length} still ahead, ${unflagged.length} without the flag`,
            },
            {
              name: "the skewed source did not drag the correlator's watermark forward",
              ok: lateOthers.length === 0 && wm.min > -1,
              detail: `${lateOthers.length} samples of other points sent to ordered.v1.late; ${
                Number.isFinite(wm.min)
                  ? `watermark lag ${wm.min.toFixed(2)} s to ${wm.max.toFixed(2)} s`
                  : 'the correlator exposes no busway_watermark_lag_seconds'
              }`,
            },
          ];
        },
      };
    },
  };
}
