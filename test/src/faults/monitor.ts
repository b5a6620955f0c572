// Watches a running stack: how fresh each output stream is, and how much memory each worker holds.
import { readFileSync } from 'node:fs';
import { busway, EventTypes, msFromTimeNs } from '@busway/proto';
import { Hdr } from '@busway/runtime';
import type { FaultStack } from './stack.js';

/** One look at a stream: its last sequence and how far its newest event time trails the wall clock. */
export interface Probe {
  t: number;
  seq?: number;
  /** Wall clock minus the newest event time in the stream's last message; undefined if it could not be read. */
  lagMs?: number;
}

export type WatchedStream = 'UNS' | 'ANOMALIES' | 'ORDERED';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resident set size of a process in bytes (Linux /proc), undefined once it is gone. */
export function rssOf(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Newest event time (ms) of a fabric message: samples or scores. */
function newestEventMs(type: string, data: Uint8Array): number | undefined {
  let times: number[] = [];
  if (type === EventTypes.SampleBatch)
    times = busway.v1.SampleBatch.decode(data).samples.map((s) => msFromTimeNs(s.eventTimeNs));
  else if (type === EventTypes.AnomalyBatch)
    times = busway.v1.AnomalyBatch.decode(data).scores.map((s) => msFromTimeNs(s.eventTimeNs));
  return times.length > 0 ? Math.max(...times) : undefined;
}

/**
 * Polls the watched streams every `everyMs` (last message → lag), every worker's RSS from /proc, and the
 * workers' metrics (correlator watermark lag) every second, until stop().
 */
export class Monitor {
  readonly probes = new Map<WatchedStream, Probe[]>();
  readonly peakRss = new Map<string, number>();
  readonly rssAt = new Map<string, number>();
  /** Lowest and highest correlator watermark lag seen (s; negative: the watermark is ahead of the clock). */
  watermarkLagS = { min: Number.POSITIVE_INFINITY, max: Number.NEGATIVE_INFINITY };
  private running = true;
  private readonly loops: Promise<void>[] = [];

  constructor(
    private readonly stack: FaultStack,
    private readonly workers: readonly string[],
    streams: readonly WatchedStream[],
    private readonly everyMs = 500,
  ) {
    for (const s of streams) this.probes.set(s, []);
    this.loops.push(this.streamLoop(), this.rssLoop(), this.metricsLoop());
  }

  /** Each worker's current RSS, kept as the value "at" a moment (the fault). */
  markRss(): void {
    for (const w of this.workers) {
      const pid = this.stack.sup.pid(w);
      const rss = pid ? rssOf(pid) : undefined;
      if (rss !== undefined) this.rssAt.set(w, rss);
    }
  }

  private async probe(stream: WatchedStream): Promise<Probe> {
    const t = Date.now();
    try {
      const info = await this.stack.jsm.streams.info(stream);
      const seq = info.state.last_seq;
      if (info.state.messages === 0) return { t, seq };
      const m = await this.stack.jsm.streams.getMessage(stream, { seq });
      const newest = m ? newestEventMs(m.header.get(Hdr.Type) ?? '', m.data) : undefined;
      return { t, seq, lagMs: newest === undefined ? undefined : t - newest };
    } catch {
      return { t }; // a leader election in progress: nothing known at this moment
    }
  }

  private async streamLoop(): Promise<void> {
    while (this.running) {
      const started = Date.now();
      for (const [stream, list] of this.probes) list.push(await this.probe(stream));
      await sleep(Math.max(0, this.everyMs - (Date.now() - started)));
    }
  }

  private async rssLoop(): Promise<void> {
    while (this.running) {
      for (const w of this.workers) {
        const pid = this.stack.sup.pid(w);
        const rss = pid ? rssOf(pid) : undefined;
        if (rss !== undefined && rss > (this.peakRss.get(w) ?? 0)) this.peakRss.set(w, rss);
      }
      await sleep(this.everyMs);
    }
  }

  private async metricsLoop(): Promise<void> {
    while (this.running) {
      // a frozen (SIGSTOP) worker answers nothing: give up on this round rather than wait for it
      const samples = await Promise.race([this.stack.sup.scrape(), sleep(3000).then(() => [])]);
      for (const s of samples)
        if (s.name === 'busway_watermark_lag_seconds' && Number.isFinite(s.value)) {
          this.watermarkLagS.min = Math.min(this.watermarkLagS.min, s.value);
          this.watermarkLagS.max = Math.max(this.watermarkLagS.max, s.value);
        }
      await sleep(1000);
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }
}

/** What a fault did to one output stream, from its probes. */
export interface Recovery {
  /** The lag crossed the threshold after the fault. */
  disrupted: boolean;
  /** Fault → the lag back under the threshold for good; undefined if it never came back. */
  recoveryMs?: number;
  /** Longest stretch after the fault with no new message on the stream. */
  outputGapMs: number;
  maxLagMs: number;
  baselineLagMs: number;
  thresholdMs: number;
}

/**
 * Recovery of one stream: the threshold is the worst lag of the `baselineMs` before the fault plus
 * `marginMs`; recovered at the first probe under it after the last probe over it.
 */
export function recoveryOf(
  probes: readonly Probe[],
  faultAt: number,
  opts: { baselineMs?: number; marginMs?: number } = {},
): Recovery {
  const baseline = probes.filter(
    (p) => p.t < faultAt && p.t >= faultAt - (opts.baselineMs ?? 5000) && p.lagMs !== undefined,
  );
  const baselineLagMs = Math.max(0, ...baseline.map((p) => p.lagMs as number));
  const thresholdMs = baselineLagMs + (opts.marginMs ?? 2000);
  const after = probes.filter((p) => p.t >= faultAt);
  const known = after.filter((p) => p.lagMs !== undefined);
  const maxLagMs = Math.max(0, ...known.map((p) => p.lagMs as number));
  let lastBad = -1;
  known.forEach((p, i) => {
    if ((p.lagMs as number) > thresholdMs) lastBad = i;
  });
  const recoveredProbe = lastBad === -1 ? undefined : known[lastBad + 1];
  let outputGapMs = 0;
  let since = faultAt;
  let seq = probes.filter((p) => p.t < faultAt && p.seq !== undefined).at(-1)?.seq;
  for (const p of after) {
    if (p.seq === undefined) continue;
    if (seq === undefined || p.seq > seq) {
      outputGapMs = Math.max(outputGapMs, p.t - since);
      since = p.t;
      seq = p.seq;
    }
  }
  const lastT = after.at(-1)?.t ?? faultAt;
  outputGapMs = Math.max(outputGapMs, lastT - since);
  return {
    disrupted: lastBad !== -1,
    recoveryMs: lastBad === -1 ? 0 : recoveredProbe ? recoveredProbe.t - faultAt : undefined,
    outputGapMs,
    maxLagMs,
    baselineLagMs,
    thresholdMs,
  };
}
