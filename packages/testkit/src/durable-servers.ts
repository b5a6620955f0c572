// Servers that keep their state across a restart, for fault-injection tests: a JetStream cluster on loopback,
// Redis with an append-only file, Mosquitto with persistence. A restart of one of them is then a restart, not a wipe.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, startNats, startProcess, startRedis, which, type TestServer } from './servers.js';

/** One node of a test cluster: a TestServer with its server name and HTTP monitoring port. */
export interface ClusterNode extends TestServer {
  readonly name: string;
  readonly monitorPort: number;
}

/** A nats-server cluster with JetStream on loopback, each node with its own store dir. */
export interface NatsCluster {
  readonly nodes: readonly ClusterNode[];
  /** Every node's client URL, comma separated: what NATS_URL takes. */
  readonly url: string;
  /** The node with this server name. */
  node(name: string): ClusterNode;
  /**
   * Resolves once JetStream has a meta leader, every running node reports it, and it has every other running
   * node as a current peer (before that, a stream with as many replicas as nodes has no room to be placed).
   * `everyNode`: also wait until every node of the cluster runs, not only a majority (a cluster just started).
   */
  waitForMetaLeader(timeoutMs?: number, everyNode?: boolean): Promise<string>;
  dispose(): Promise<void>;
}

export interface StartNatsClusterOptions {
  /** Nodes in the cluster (R3 streams need 3). @default 3 */
  size?: number;
  /** Cluster name. @default busway-test */
  name?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The JetStream meta group as a node's /jsz sees it (a leader lists its peers); undefined while the node is down. */
interface MetaCluster {
  leader?: string;
  replicas?: { name: string; current?: boolean }[];
}

async function metaClusterOf(monitorPort: number): Promise<MetaCluster | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${monitorPort}/jsz`, { signal: AbortSignal.timeout(2000) });
    if (!res.ok) return undefined;
    return ((await res.json()) as { meta_cluster?: MetaCluster }).meta_cluster;
  } catch {
    return undefined;
  }
}

/**
 * A JetStream cluster of `size` nats-server processes routed to each other on loopback (server names n1..nN).
 * Each node keeps its port and store dir across kill() and restart(), so a killed node rejoins with its data.
 */
export async function startNatsCluster(opts: StartNatsClusterOptions = {}): Promise<NatsCluster> {
  const size = opts.size ?? 3;
  const clusterName = opts.name ?? 'busway-test';
  const routePorts = await Promise.all(Array.from({ length: size }, () => freePort()));
  const monitorPorts = await Promise.all(Array.from({ length: size }, () => freePort()));
  const nodes = await Promise.all(
    routePorts.map(async (routePort, i) => {
      const name = `n${i + 1}`;
      const routes = routePorts.filter((p) => p !== routePort).map((p) => `nats-route://127.0.0.1:${p}`);
      const server = await startNats([
        '-n',
        name,
        '-m',
        String(monitorPorts[i]),
        '--cluster_name',
        clusterName,
        '--cluster',
        `nats://127.0.0.1:${routePort}`,
        '--routes',
        routes.join(','),
      ]);
      return Object.assign(server, { name, monitorPort: monitorPorts[i] as number }) as ClusterNode;
    }),
  );
  const cluster: NatsCluster = {
    nodes,
    url: nodes.map((n) => n.url).join(','),
    node(name) {
      const n = nodes.find((x) => x.name === name);
      if (!n) throw new Error(`no node ${name} in the cluster (${nodes.map((x) => x.name).join(', ')})`);
      return n;
    },
    async waitForMetaLeader(timeoutMs = 30_000, everyNode = false) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const metas = await Promise.all(nodes.map((n) => metaClusterOf(n.monitorPort)));
        const seen = metas.map((m) => m?.leader || undefined);
        const up = nodes.filter((_, i) => seen[i] !== undefined).map((n) => n.name);
        const leaders = new Set(seen.filter((l): l is string => l !== undefined));
        const [leader] = leaders;
        const peers = metas[nodes.findIndex((n) => n.name === leader)]?.replicas ?? [];
        const current = new Set(peers.filter((p) => p.current).map((p) => p.name));
        // a killed leader is still named by the others until they notice: only a live one counts
        if (
          leaders.size === 1 &&
          leader &&
          up.includes(leader) &&
          up.length >= (everyNode ? size : Math.floor(size / 2) + 1) &&
          up.every((name) => name === leader || current.has(name))
        )
          return leader;
        if (Date.now() > deadline)
          throw new Error(`no JetStream meta leader after ${timeoutMs} ms (nodes see: ${seen.join(', ')})`);
        await sleep(200);
      }
    },
    async dispose() {
      await Promise.all(nodes.map((n) => n.dispose()));
    },
  };
  // all of them: with only a majority up, a stream with a replica per node finds no room ("no suitable peers")
  await cluster.waitForMetaLeader(30_000, true);
  return cluster;
}

/** redis-server with an append-only file fsynced on every write: restart() keeps every key. */
export function startDurableRedis(): Promise<TestServer> {
  return startRedis({ durable: true });
}

/**
 * mosquitto with persistence: a restart keeps every persistent session (subscriptions, queued QoS 1 messages),
 * as a production broker does. The store is written on a clean stop (SIGTERM) and every second.
 */
export function startDurableMosquitto(): Promise<TestServer> {
  return startProcess(
    'mosquitto',
    which('mosquitto', ['/usr/sbin/mosquitto']),
    (_port, dir) => ['-c', join(dir, 'mosquitto.conf')],
    'mqtt',
    (port, dir) =>
      writeFileSync(
        join(dir, 'mosquitto.conf'),
        [
          `listener ${port} 127.0.0.1`,
          'allow_anonymous true',
          'persistence true',
          `persistence_location ${dir}/`,
          // started as root, mosquitto drops to its own user, which cannot write the temp dir: nothing was saved
          'user root',
          'autosave_interval 1',
          'max_queued_messages 100000',
          'max_inflight_messages 0',
          '',
        ].join('\n'),
      ),
  );
}
