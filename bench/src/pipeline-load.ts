// The load of the end-to-end benchmark: raw sample batches with patchable times, a publisher that preloads
// a backlog or paces a rate, and an observer that reads per-sample latency off the output subjects.
import type { JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { busway, EventTypes, Long, msFromTimeNs, rfc3339Nano, timeNsFromMs, token } from '@busway/proto';
import type { SiteModel } from '@busway/registry';
import { fabricHeaders } from '@busway/runtime';
import type { buildSite } from './site.js';

type Site = ReturnType<typeof buildSite>;
const SENTINEL = 0x5eed_0000_0000_0000n;

/** Where a rack sits: the UNS tokens the pipeline's output subjects carry. */
export interface RackPath {
  site: string;
  hall: string;
  row: string;
  rack: string;
}

/**
 * Every registered point once per cycle, in chunks of `samplesPerMessage` consecutive points (a gateway's
 * racks), encoded once per value variant. Each sample's event and ingest time are fixed64 fields whose byte
 * offsets are kept, so a send copies the bytes and writes its time in place: the publisher costs almost nothing.
 */
export class LoadPayloads {
  /** [variant][chunk] encoded SampleBatch */
  private readonly templates: Uint8Array[][] = [];
  /** [variant][chunk] byte offsets of every sample's event_time_ns and ingest_time_ns */
  private readonly offsets: number[][][] = [];
  /** [chunk] the racks whose points the chunk holds */
  readonly racksOf: RackPath[][] = [];
  readonly chunks: number;

  constructor(
    site: Site,
    readonly samplesPerMessage: number,
    variants = 8,
  ) {
    const rackOfPoint = rackIndex(site.model);
    this.chunks = Math.floor(site.points.length / samplesPerMessage);
    const bases = site.points.map((p) => p.value());
    for (let v = 0; v < variants; v++) {
      const row: Uint8Array[] = [];
      const rowOffsets: number[][] = [];
      for (let c = 0; c < this.chunks; c++) {
        const samples: busway.v1.ISample[] = [];
        for (let k = 0; k < samplesPerMessage; k++) {
          const i = c * samplesPerMessage + k;
          const p = site.points[i] as Site['points'][number];
          samples.push({
            pointId: p.pointId,
            // a steady plant: ±0.2 % around each point's level, so no detector or rule fires on noise
            doubleValue: (bases[i] as number) * (1 + 0.002 * Math.sin(v * 0.8 + i)),
            unit: p.unit,
            eventTimeNs: Long.fromString((SENTINEL + BigInt(2 * k)).toString(), true),
            ingestTimeNs: Long.fromString((SENTINEL + BigInt(2 * k + 1)).toString(), true),
            clockSource: busway.v1.ClockSource.CLOCK_SOURCE_DEVICE,
            quality: busway.v1.Quality.QUALITY_GOOD,
            source: { protocol: 'sparkplug', sourceId: p.sourceId, address: `spBv1.0/${p.sourceId}` },
            sequence: Long.fromNumber(v, true),
          });
        }
        const bytes = busway.v1.SampleBatch.encode({ samples }).finish();
        row.push(bytes);
        // per template: protobufjs leaves a zero sequence out, so variants differ in length
        rowOffsets.push(sentinelOffsets(bytes, samplesPerMessage));
        if (v === 0) {
          const racks = new Map<string, RackPath>();
          for (let k = 0; k < samplesPerMessage; k++) {
            const r = rackOfPoint.get(site.points[c * samplesPerMessage + k]?.pointId ?? '');
            if (r) racks.set(`${r.row}/${r.rack}`, r);
          }
          this.racksOf.push([...racks.values()]);
        }
      }
      this.templates.push(row);
      this.offsets.push(rowOffsets);
    }
  }

  /** A fresh copy of chunk `chunk` (of value variant `variant`) with every sample's event and ingest time `ms`. */
  stamped(variant: number, chunk: number, ms: number): Uint8Array {
    const v = variant % this.templates.length;
    const bytes = Buffer.from(this.templates[v]?.[chunk] as Uint8Array);
    const ns = BigInt(timeNsFromMs(ms).toString());
    for (const at of this.offsets[v]?.[chunk] as number[]) bytes.writeBigUInt64LE(ns, at);
    return bytes;
  }
}

function rackIndex(model: SiteModel): Map<string, RackPath> {
  const assets = new Map(model.assets.map((a) => [a.id, a]));
  const out = new Map<string, RackPath>();
  for (const p of model.points) {
    const a = assets.get(p.asset);
    if (a) out.set(p.pointId, { site: model.site, hall: a.hall, row: a.row, rack: a.rack });
  }
  return out;
}

/** Offsets of the 2·n sentinel times (event, ingest per sample) in an encoded batch. */
function sentinelOffsets(bytes: Uint8Array, n: number): number[] {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const probe = Buffer.alloc(8);
  const out: number[] = [];
  let from = 0;
  for (let i = 0; i < 2 * n; i++) {
    probe.writeBigUInt64LE(SENTINEL + BigInt(i));
    const at = buf.indexOf(probe, from);
    if (at < 0) throw new Error(`sentinel time ${i} not found in the encoded batch`);
    out.push(at);
    from = at + 8;
  }
  return out;
}

/** Wall clock in ms with sub-ms precision, the same clock the stamps and the observer use. */
export const wallMs = (): number => performance.timeOrigin + performance.now();

/** Publishes chunks of a LoadPayloads into JetStream, one subject per chunk, with fabric headers and ids. */
export class LoadPublisher {
  /** Samples published (PubAck or not) since creation. */
  sentSamples = 0;
  /** Counts the samples sent of some chunks inside a time window (what a LatencyObserver should see). */
  watch?: { chunks: Set<number>; fromMs: number; untilMs: number; samples: number };
  private inFlight = 0;
  private failures = 0;
  private seq = 0;

  constructor(
    private readonly js: JetStreamClient,
    private readonly payloads: LoadPayloads,
    private readonly subjectOf: (chunk: number) => string,
    private readonly idPrefix: string,
  ) {}

  private send(variant: number, chunk: number, ms: number): Promise<void> {
    const id = `${this.idPrefix}-${this.seq++}`;
    const headers = fabricHeaders({
      type: EventTypes.SampleBatch,
      source: '/bench/load',
      id,
      time: rfc3339Nano(timeNsFromMs(ms)),
    });
    this.inFlight++;
    this.sentSamples += this.payloads.samplesPerMessage;
    const w = this.watch;
    if (w && w.chunks.has(chunk) && ms >= w.fromMs && ms <= w.untilMs)
      w.samples += this.payloads.samplesPerMessage;
    return this.js
      .publish(this.subjectOf(chunk), this.payloads.stamped(variant, chunk, ms), { headers, msgID: id })
      .then(
        () => void this.inFlight--,
        () => void (this.inFlight--, this.failures++),
      );
  }

  /** `cycles` cycles of the first `chunks` chunks as fast as JetStream takes them; cycle c stamped `stampMs(c)`. */
  async preload(cycles: number, chunks: number, stampMs: (cycle: number) => number): Promise<void> {
    const window: Promise<void>[] = [];
    for (let c = 0; c < cycles; c++)
      for (let k = 0; k < chunks; k++) {
        window.push(this.send(c, k, stampMs(c)));
        if (window.length >= 256) await Promise.all(window.splice(0));
      }
    await Promise.all(window);
    this.check();
  }

  /**
   * `ratePerS` samples/s for `durationMs`: the first `chunks` chunks in turn, each stamped with the wall clock
   * as it is sent, so each point reports once every chunks·samplesPerMessage/rate seconds.
   */
  async paced(ratePerS: number, chunks: number, durationMs: number): Promise<void> {
    const perMs = ratePerS / this.payloads.samplesPerMessage / 1000;
    const start = performance.now();
    let n = 0;
    for (;;) {
      const elapsed = performance.now() - start;
      if (elapsed >= durationMs) break;
      const due = Math.floor(elapsed * perMs) + 1;
      for (; n < due; n++) {
        const cycle = Math.floor(n / chunks);
        void this.send(cycle, n % chunks, wallMs());
      }
      // a JetStream that stops acknowledging would otherwise grow this process without bound
      await new Promise((r) => setTimeout(r, this.inFlight > 4096 ? 20 : 2));
    }
    while (this.inFlight > 0) await new Promise((r) => setTimeout(r, 5));
    this.check();
  }

  private check(): void {
    if (this.failures > 0) throw new Error(`${this.failures} load publishes were not acknowledged`);
  }
}

/**
 * Reads per-sample latency off output subjects: receive time minus the sample's ingest time, for samples
 * stamped inside [fromMs, untilMs] (warm-up and shutdown left out). Subscribed to a subset of the racks only,
 * so decoding the output costs this process little.
 */
export class LatencyObserver {
  private readonly latencies: number[] = [];
  private readonly subs: Subscription[];
  fromMs = Number.POSITIVE_INFINITY;
  untilMs = Number.POSITIVE_INFINITY;

  constructor(nc: NatsConnection, subjects: string[]) {
    this.subs = subjects.map((subject) =>
      nc.subscribe(subject, {
        callback: (err, msg) => {
          if (err) return;
          const now = wallMs();
          for (const s of busway.v1.SampleBatch.decode(msg.data).samples) {
            const t = msFromTimeNs(s.ingestTimeNs);
            if (t >= this.fromMs && t <= this.untilMs) this.latencies.push(now - t);
          }
        },
      }),
    );
  }

  /** Latencies recorded so far, ms; unsubscribes. */
  close(): number[] {
    for (const s of this.subs) s.unsubscribe();
    return this.latencies;
  }
}

/** UNS subjects (all metrics of all assets) of the racks in the given chunks. */
export function unsSubjectsOf(payloads: LoadPayloads, chunks: number[]): string[] {
  return chunks.flatMap((c) =>
    (payloads.racksOf[c] ?? []).map(
      (r) => `uns.v1.${token(r.site)}.${token(r.hall)}.${token(r.row)}.${token(r.rack)}.>`,
    ),
  );
}
