// Faults of processes: a NATS node, a worker, Redis, the MQTT broker killed or restarted; a consumer frozen.
import { sumOf } from '@busway/cli';
import { Streams } from '@busway/proto';
import { waitFor } from '@busway/testkit';
import type { Check, Scenario, ScenarioContext } from './scenario.js';
import { sleep } from './scenario.js';
import type { FaultStack, FlowWorker } from './stack.js';

/** The durable consumer each consuming worker reads its main input through (the default names). */
const INPUT: Record<Exclude<FlowWorker, 'ingest-sparkplug'>, { stream: string; durable: string }> = {
  'sparkplug-decode': { stream: 'AUDIT', durable: 'sparkplug-decode' },
  normalizer: { stream: 'RAW', durable: 'normalizer' },
  correlator: { stream: 'NORM', durable: 'correlator' },
  anomaly: { stream: 'ORDERED', durable: 'anomaly' },
  fanout: { stream: 'ORDERED', durable: 'fanout-samples' },
};

const FABRIC = Object.values(Streams).map((s) => s.name);

/** Every fabric stream has a leader and all its replicas are current. */
async function allStreamsHealthy(stack: FaultStack, replicas: number): Promise<boolean> {
  for (const name of FABRIC) {
    const info = await stack.jsm.streams.info(name);
    const peers = info.cluster?.replicas ?? [];
    if (!info.cluster?.leader || peers.length !== replicas - 1 || peers.some((p) => !p.current || p.offline))
      return false;
  }
  return true;
}

/**
 * Steps `stream`'s leader down until `node` leads it (each step-down elects one of the others at random).
 * Returns how many step-downs it took, or undefined if `node` did not come to lead it.
 */
async function moveLeader(
  stack: FaultStack,
  stream: string,
  node: string,
  tries = 12,
): Promise<number | undefined> {
  const leaderOf = async () => (await stack.jsm.streams.info(stream)).cluster?.leader;
  for (let i = 0; i < tries; i++) {
    const leader = await leaderOf();
    if (leader === node) return i;
    await stack.nc.request(`$JS.API.STREAM.LEADER.STEPDOWN.${stream}`, undefined, { timeout: 5000 });
    await waitFor(
      `a new leader of ${stream}`,
      async () => ![undefined, leader].includes(await leaderOf()),
      10_000,
      100,
    );
  }
  return undefined;
}

/**
 * kill -9 the node leading RAW (the busiest stream), NORM and UNS, restart it after `downMs` on the same store:
 * the bridge's output, the normalizer's input and output and fan-out's output all lose their leader at once.
 */
export function natsNodeKill(downMs = 10_000): Scenario {
  return {
    name: 'nats-node-kill',
    title: `kill -9 the NATS node leading RAW, NORM and UNS, restart it after ${downMs / 1000} s (R3 streams)`,
    watch: 'UNS',
    quick: true,
    async inject({ stack, log }) {
      const leader = (await stack.jsm.streams.info('RAW')).cluster?.leader ?? 'n1';
      // the two stages that hold a batch while their output elects a leader: the normalizer and fan-out
      let elected = false;
      for (const stream of ['NORM', 'UNS']) {
        const stepDowns = await moveLeader(stack, stream, leader);
        if (stepDowns === undefined) log(`${stream}'s leader could not be moved to ${leader}`);
        else elected ||= stepDowns > 0;
      }
      // the lag of the 5 s before the fault is the recovery baseline: keep the elections just made out of it
      if (elected) await sleep(6000);
      const led = [];
      for (const name of FABRIC)
        if ((await stack.jsm.streams.info(name)).cluster?.leader === leader) led.push(name);
      const node = stack.cluster.node(leader);
      const faultAt = Date.now();
      await node.kill();
      log(`killed ${leader} (leader of ${led.join(', ')})`);
      await sleep(downMs);
      await node.restart();
      const repairedAt = Date.now();
      await stack.cluster.waitForMetaLeader(60_000);
      await waitFor(
        'every stream back to 3 current replicas',
        () => allStreamsHealthy(stack, 3),
        90_000,
        500,
      );
      log(`${leader} restarted; every stream has 3 current replicas after ${Date.now() - repairedAt} ms`);
      return {
        faultAt,
        repairedAt,
        notes: [`killed ${leader}, leader of ${led.join(', ')}; down ${downMs} ms`],
        checks: async () => [
          {
            name: 'every stream is R3 with current replicas after the node came back',
            ok: await allStreamsHealthy(stack, 3),
            detail: 'stream info cluster.replicas',
          },
        ],
      };
    },
  };
}

/** Waits (at most 5 s) until the worker holds input it has not acknowledged: a kill then lands mid-batch. */
async function midBatch(stack: FaultStack, worker: FlowWorker): Promise<string> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    if (worker === 'ingest-sparkplug') {
      const held = sumOf(await stack.sup.scrape(), 'busway_bridge_buffer_bytes', { worker });
      if (held > 0) return `${held} bytes held before the JetStream PubAck`;
    } else {
      const { stream, durable } = INPUT[worker];
      const info = await stack.jsm.consumers.info(stream, durable);
      if (info.num_ack_pending > 0) return `${info.num_ack_pending} messages delivered and unacknowledged`;
    }
    await sleep(5);
  }
  return 'nothing seen in flight within 5 s: killed anyway';
}

/** kill -9 one worker while it holds unacknowledged input; the Supervisor restarts it as Kubernetes would. */
export function killWorker(worker: FlowWorker, quick = false): Scenario {
  return {
    name: `kill9-${worker}`,
    title: `kill -9 ${worker} mid-batch; restarted 1 s later by the supervisor`,
    watch: worker === 'anomaly' ? 'ANOMALIES' : 'UNS',
    quick,
    async inject({ stack, log }) {
      const inFlight = await midBatch(stack, worker);
      const faultAt = Date.now();
      const pid = stack.sup.pid(worker);
      stack.sup.signal(worker, 'SIGKILL');
      log(`SIGKILL ${worker} (pid ${pid}): ${inFlight}`);
      await waitFor(
        `${worker} restarted`,
        () => {
          const p = stack.sup.pid(worker);
          return p !== undefined && p !== pid;
        },
        30_000,
        100,
      );
      await stack.sup.waitReady(60_000);
      return { faultAt, repairedAt: Date.now(), notes: [`pid ${pid} killed: ${inFlight}`] };
    },
  };
}

/** Restarts a server (SIGTERM, start again on the same port and data dir). */
function restartServer(
  name: string,
  title: string,
  pick: (s: FaultStack) => { restart(): Promise<void> },
): Scenario {
  return {
    name,
    title,
    watch: 'UNS',
    async inject({ stack, log }) {
      const faultAt = Date.now();
      await pick(stack).restart();
      log(`${name}: back after ${Date.now() - faultAt} ms`);
      return { faultAt, repairedAt: Date.now(), notes: [`down ${Date.now() - faultAt} ms`] };
    },
  };
}

export const redisRestart = (): Scenario =>
  restartServer(
    'redis-restart',
    'restart Redis (append-only file kept: registry, checkpoints, last values)',
    (s) => s.redis,
  );

export const mqttRestart = (): Scenario =>
  restartServer('mqtt-restart', 'restart Mosquitto (persistent sessions kept)', (s) => s.broker);

/**
 * SIGSTOP a consuming worker for `stallMs`, then SIGCONT: its consumer's max_ack_pending holds the line, the
 * stages before it keep going, and nothing is lost once it catches up.
 */
export function stallWorker(worker: 'fanout' | 'anomaly', stallMs = 60_000): Scenario {
  return {
    name: `stall-${worker}-${stallMs / 1000}s`,
    title: `SIGSTOP ${worker} for ${stallMs / 1000} s, then SIGCONT`,
    watch: worker === 'anomaly' ? 'ANOMALIES' : 'UNS',
    async inject(ctx: ScenarioContext) {
      const { stack, log } = ctx;
      const { stream, durable } = INPUT[worker];
      const before = await stack.jsm.consumers.info(stream, durable);
      const upstreamBefore = (await stack.jsm.streams.info(stream)).state.last_seq;
      const faultAt = Date.now();
      stack.sup.signal(worker, 'SIGSTOP');
      log(`SIGSTOP ${worker}`);
      let maxAckPending = 0;
      let maxPending = 0;
      while (Date.now() - faultAt < stallMs) {
        const info = await stack.jsm.consumers.info(stream, durable).catch(() => undefined);
        maxAckPending = Math.max(maxAckPending, info?.num_ack_pending ?? 0);
        maxPending = Math.max(maxPending, info?.num_pending ?? 0);
        await sleep(1000);
      }
      const upstreamDuring = (await stack.jsm.streams.info(stream)).state.last_seq - upstreamBefore;
      stack.sup.signal(worker, 'SIGCONT');
      const repairedAt = Date.now();
      log(`SIGCONT ${worker}: ${maxPending} pending at most, ${maxAckPending} unacknowledged at most`);
      const limit = before.config.max_ack_pending ?? 0;
      const checks: Check[] = [
        {
          name: `the stage before ${worker} kept writing ${stream} during the stall`,
          ok: upstreamDuring > 0,
          detail: `${upstreamDuring} messages written to ${stream} while ${worker} was stopped`,
        },
        {
          name: `${worker}'s consumer held at most max_ack_pending unacknowledged`,
          ok: maxAckPending <= limit,
          detail: `${maxAckPending} unacknowledged at most, limit ${limit}; ${maxPending} waiting at most`,
        },
      ];
      return {
        faultAt,
        repairedAt,
        notes: [`${maxPending} messages waited at most; ${upstreamDuring} written upstream meanwhile`],
        checks: () => checks,
      };
    },
  };
}
