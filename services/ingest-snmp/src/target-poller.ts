import type snmp from 'net-snmp';
import { nowNs } from '@busway/proto';
import {
  ContractViolation,
  DecodeError,
  type Logger,
  messageOf,
  PollDelivery,
  PollScheduler,
  reasonOf,
  runPollLoop,
  withTimeout,
  type WorkerRuntime,
} from '@busway/runtime';
import type { PointConfig, TargetConfig } from './config.js';
import { STAGE, WORKER, type Cycle } from './cycle.js';
import { badSample, goodSample, type BadFlag, type SampleStamp } from './sample.js';
import { getVarbinds, openSession, refusalOf } from './session.js';
import type { Summaries } from './summaries.js';
import { describeVarbind, readVarbind, type RawVarbind } from './varbind.js';

/** The points of a target in GET requests of at most `max` OIDs each, in configured order. */
export function chunksOf(points: readonly PointConfig[], max: number): PointConfig[][] {
  const chunks: PointConfig[][] = [];
  for (let i = 0; i < points.length; i += max) chunks.push(points.slice(i, i + max));
  return chunks;
}

/**
 * Polls one target in its own loop: GET every chunk, publish one SampleBatch, wait for the PubAck, sleep to the
 * next tick. Nothing is shared with other targets but the NATS connection, so a slow or dead agent delays only
 * itself. The next poll waits for the previous publish: at most one cycle per target in memory.
 */
export class TargetPoller {
  private session?: snmp.Session;
  private readonly chunks: PointConfig[][];
  private readonly log: Logger;
  private readonly delivery: PollDelivery;
  /** Faults already dead-lettered, so a MIB that stays wrong is not dead-lettered every cycle. */
  private readonly reported = new Set<string>();
  private readonly schedule: PollScheduler;
  private loop?: Promise<void>;

  constructor(
    private readonly rt: WorkerRuntime,
    private readonly target: TargetConfig,
    maxOidsPerRequest: number,
    private readonly summaries: Summaries,
    private readonly signal: AbortSignal,
  ) {
    this.chunks = chunksOf(target.points, maxOidsPerRequest);
    this.log = rt.log.child({ target: target.id });
    this.delivery = new PollDelivery(
      rt,
      {
        protocol: 'snmp',
        worker: WORKER,
        id: target.id,
        address: `${target.host}:${target.port}`,
        pollIntervalMs: target.pollIntervalMs,
        maxBackoffMs: target.maxBackoffMs,
      },
      summaries,
      signal,
      this.log,
    );
    this.schedule = new PollScheduler(target, rt.metrics, summaries, this.log, {
      quiet: 'target not answering (down, or a wrong community or user); backing off',
      back: 'target answering again',
    });
  }

  start(): void {
    const { host, port, version, points } = this.target;
    // never the community or the keys
    this.log.info(
      { address: `${host}:${port}`, version, points: points.length, requests: this.chunks.length },
      'polling SNMP target',
    );
    this.loop = this.run();
  }

  /** Resolves once the loop has ended (after abort): the cycle in hand is finished and published first. */
  async stopped(): Promise<void> {
    await this.loop;
  }

  private async run(): Promise<void> {
    await runPollLoop<Cycle>({
      signal: this.signal,
      schedule: this.schedule,
      poll: (started) => this.poll(started),
      failed: (started, err) => {
        this.closeSession(); // the next cycle opens a fresh session
        const stamp = this.stampOf(started);
        const samples = this.target.points.map((p) => badSample(stamp, p, 'read-failed'));
        return { pollMs: started, samples, faults: [], unreachable: messageOf(err) };
      },
      deliver: (cycle) => this.delivery.deliver(cycle),
    });
    this.closeSession();
  }

  private stampOf(pollMs: number): SampleStamp {
    const { id, host, port } = this.target;
    return { sourceId: id, addressBase: `${host}:${port}`, atMs: pollMs, ingestTimeNs: nowNs() };
  }

  private async poll(pollMs: number): Promise<Cycle> {
    const cycle: Cycle = { pollMs, samples: [], faults: [] };
    const stamp = this.stampOf(pollMs);
    for (const chunk of this.chunks) {
      if (cycle.unreachable !== undefined) this.markBad(chunk, stamp, cycle, 'read-failed');
      else await this.read(chunk, stamp, cycle);
    }
    return cycle;
  }

  private async read(chunk: PointConfig[], stamp: SampleStamp, cycle: Cycle): Promise<void> {
    const { timeoutMs, retries } = this.target;
    const key = `get/${chunk[0]?.oid}+${chunk.length}`;
    let varbinds: RawVarbind[];
    try {
      this.session ??= openSession(this.target, (err) => this.onUnreadable(err));
      // net-snmp times out on its own; this guard (v3 discovery doubles the requests) only stops a hang
      const guardMs = 2 * timeoutMs * (retries + 1) + 1000;
      varbinds = await withTimeout(
        getVarbinds(
          this.session,
          chunk.map((p) => p.oid),
        ),
        guardMs,
        'GET',
      );
    } catch (err) {
      const refusal = refusalOf(err);
      if (!refusal) {
        cycle.unreachable = messageOf(err);
        this.closeSession();
        this.markBad(chunk, stamp, cycle, 'read-failed');
        return;
      }
      this.markBad(chunk, stamp, cycle, refusal.flag);
      this.fault(cycle, key, chunk[0]?.oid ?? '', refusal.error, { oids: chunk.map((p) => p.oid) });
      return;
    }
    this.reported.delete(key);
    (cycle.original ??= []).push(varbinds.map((vb) => ({ oid: vb.oid, type: vb.type, value: vb.value })));
    chunk.forEach((point, i) => this.decode(point, varbinds[i], stamp, cycle));
  }

  private decode(point: PointConfig, vb: RawVarbind | undefined, stamp: SampleStamp, cycle: Cycle): void {
    const key = `point/${point.name}`;
    try {
      if (vb?.oid !== point.oid)
        throw new DecodeError(`asked for ${point.oid}, the agent answered ${vb?.oid ?? 'nothing'}`);
      const reading = readVarbind(vb, point);
      if (reading.ok) {
        cycle.samples.push(goodSample(stamp, point, reading.value));
        this.reported.delete(key);
        return;
      }
      cycle.samples.push(badSample(stamp, point, reading.flag));
      const why = new ContractViolation(`${point.oid}: the agent answered ${reading.flag}`);
      this.fault(cycle, key, point.oid, why, { point: point.name });
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      cycle.samples.push(badSample(stamp, point, 'decode-error'));
      this.fault(cycle, key, point.oid, err, {
        point: point.name,
        type: point.type,
        scale: point.scale,
        varbind: describeVarbind(vb),
      });
    }
  }

  private markBad(chunk: PointConfig[], stamp: SampleStamp, cycle: Cycle, flag: BadFlag): void {
    for (const point of chunk) cycle.samples.push(badSample(stamp, point, flag));
  }

  private fault(cycle: Cycle, key: string, oid: string, err: unknown, detail: Record<string, unknown>): void {
    if (this.reported.has(key)) return;
    this.reported.add(key);
    const { id, host, port } = this.target;
    cycle.faults.push({
      key,
      subject: `snmp:${host}:${port}/${oid}`,
      detail: { target: id, oid, ...detail },
      reason: reasonOf(err),
    });
  }

  /** A datagram net-snmp could not parse: the request it answered times out, so it is only counted here. */
  private onUnreadable(err: Error): void {
    this.rt.metrics.messages.inc({ stage: STAGE, outcome: 'bad-response' });
    this.summaries.readFailures.add(`${this.target.id} (unreadable answer: ${messageOf(err).slice(0, 80)})`);
  }

  private closeSession(): void {
    try {
      this.session?.close();
    } catch (err) {
      this.log.debug({ err: messageOf(err) }, 'session socket already closed');
    }
    this.session = undefined;
  }
}
