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
  type WorkerRuntime,
} from '@busway/runtime';
import type { DeviceConfig } from './config.js';
import { WORKER, type Cycle } from './cycle.js';
import { widthOf } from './data-types.js';
import { decodePoint, type BlockData } from './decode.js';
import { ModbusConnection, ModbusException } from './modbus-connection.js';
import { planBlocks, type Block, type PlanLimits } from './register-map.js';
import { badSample, goodSample, type BadReadFlag, type CycleStamp } from './sample.js';
import type { PollSummaries } from './summaries.js';

/**
 * Polls one device in its own loop: read every block, publish one SampleBatch, wait for the PubAck, sleep to
 * the next tick. Nothing is shared with other devices but the NATS connection, so a slow or dead device
 * delays only itself. A device's next poll waits for its previous publish: at most one cycle in memory.
 */
export class DevicePoller {
  private readonly conn: ModbusConnection;
  private readonly blocks: Block[];
  private readonly log: Logger;
  private readonly delivery: PollDelivery;
  /** Faults already dead-lettered, so a register map that stays wrong is not dead-lettered every cycle. */
  private readonly reported = new Set<string>();
  private readonly schedule: PollScheduler;
  private loop?: Promise<void>;

  constructor(
    private readonly rt: WorkerRuntime,
    private readonly device: DeviceConfig,
    limits: PlanLimits,
    private readonly summaries: PollSummaries,
    private readonly signal: AbortSignal,
  ) {
    this.conn = new ModbusConnection(device);
    this.blocks = planBlocks(device.points, limits);
    this.log = rt.log.child({ device: device.id });
    this.delivery = new PollDelivery(
      rt,
      {
        protocol: 'modbus',
        worker: WORKER,
        id: device.id,
        address: `${device.host}:${device.port}/${device.unitId}`,
        pollIntervalMs: device.pollIntervalMs,
        maxBackoffMs: device.maxBackoffMs,
      },
      summaries,
      signal,
      this.log,
    );
    this.schedule = new PollScheduler(device, rt.metrics, summaries, this.log, {
      quiet: 'device unreachable; backing off',
      back: 'device reachable again',
    });
  }

  start(): void {
    this.log.info(
      {
        address: `${this.device.host}:${this.device.port}/${this.device.unitId}`,
        blocks: this.blocks.length,
      },
      'polling Modbus device',
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
        this.conn.close(); // the next cycle starts from a fresh connection
        const stamp = this.stampOf(started);
        const samples = this.device.points.map((p) => badSample(stamp, p, 'read-failed'));
        return { stamp, samples, faults: [], original: [], unreachable: messageOf(err) };
      },
      deliver: (cycle) =>
        this.delivery.deliver({
          pollMs: cycle.stamp.pollMs,
          samples: cycle.samples,
          faults: cycle.faults,
          original: cycle.original,
        }),
    });
    this.conn.close();
  }

  private stampOf(pollMs: number): CycleStamp {
    return { device: this.device, pollMs, ingestTimeNs: nowNs() };
  }

  private async poll(pollMs: number): Promise<Cycle> {
    const cycle: Cycle = { stamp: this.stampOf(pollMs), samples: [], faults: [], original: [] };
    if (!this.conn.isOpen) {
      try {
        await this.conn.connect();
      } catch (err) {
        cycle.unreachable = messageOf(err);
      }
    }
    for (const block of this.blocks) {
      const data = await this.read(block, cycle);
      if (data) this.decode(block, data, cycle);
    }
    return cycle;
  }

  /** The block's data, or undefined when its points got QUALITY_BAD samples instead. */
  private async read(block: Block, cycle: Cycle): Promise<BlockData | undefined> {
    if (cycle.unreachable !== undefined) {
      this.markBad(block, cycle, 'read-failed');
      return undefined;
    }
    const key = `${block.table}/${block.start}+${block.count}`;
    try {
      const data = await this.conn.read(block);
      cycle.original.push({ table: block.table, start: block.start, count: block.count, ...data });
      this.reported.delete(key);
      return data;
    } catch (err) {
      if (err instanceof ContractViolation) {
        this.markBad(block, cycle, err instanceof ModbusException ? 'modbus-exception' : 'bad-response');
        this.fault(cycle, key, block.table, block.start, err, {
          table: block.table,
          address: block.start,
          count: block.count,
          points: block.points.map((p) => p.name),
        });
      } else {
        cycle.unreachable = messageOf(err);
        this.conn.close();
        this.markBad(block, cycle, 'read-failed');
      }
      return undefined;
    }
  }

  private decode(block: Block, data: BlockData, cycle: Cycle): void {
    for (const point of block.points) {
      const key = `point/${point.name}`;
      try {
        cycle.samples.push(goodSample(cycle.stamp, point, decodePoint(point, block.start, data)));
        this.reported.delete(key);
      } catch (err) {
        if (!(err instanceof DecodeError)) throw err;
        cycle.samples.push(badSample(cycle.stamp, point, 'decode-error'));
        const at = point.address - block.start;
        this.fault(cycle, key, point.table, point.address, err, {
          point: point.name,
          table: point.table,
          address: point.address,
          type: point.type,
          byteOrder: point.byteOrder,
          wordOrder: point.wordOrder,
          read:
            data.kind === 'bits'
              ? data.bits.slice(at, at + 1)
              : data.words.slice(at, at + widthOf(point.type)),
        });
      }
    }
  }

  private markBad(block: Block, cycle: Cycle, flag: BadReadFlag): void {
    for (const point of block.points) cycle.samples.push(badSample(cycle.stamp, point, flag));
  }

  private fault(
    cycle: Cycle,
    key: string,
    table: string,
    address: number,
    err: unknown,
    detail: Record<string, unknown>,
  ): void {
    if (this.reported.has(key)) return;
    this.reported.add(key);
    const { host, port, unitId } = this.device;
    cycle.faults.push({
      key,
      subject: `modbus:${host}:${port}/${unitId}/${table}/${address}`,
      detail: { device: this.device.id, ...detail },
      reason: reasonOf(err),
    });
  }
}
