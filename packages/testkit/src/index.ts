// Real servers for tests: nats-server, redis-server and mosquitto on random loopback ports.
export { startNats, startRedis, startMosquitto, freePort, waitForPort } from './servers.js';
export type { TestServer, StartNatsOptions } from './servers.js';
export { waitFor } from './wait.js';
export { startNatsCluster, startDurableRedis, startDurableMosquitto } from './durable-servers.js';
export type { NatsCluster, ClusterNode, StartNatsClusterOptions } from './durable-servers.js';
