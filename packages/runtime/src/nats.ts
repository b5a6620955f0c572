import { readFileSync } from 'node:fs';
import { connect, credsAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';

export interface NatsOptions {
  /** Comma-separated server URLs. */
  url: string;
  /** NATS credentials file (JWT + seed). */
  credsFile?: string;
  /** Connection name shown by the server (`nats server report connections`). */
  name: string;
}

/** Connects with unlimited reconnects and logs every status change: a worker outlives a NATS restart. */
export async function connectNats(opts: NatsOptions, log: Logger): Promise<NatsConnection> {
  const nc = await connect({
    servers: opts.url.split(',').map((s) => s.trim()),
    name: opts.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    pingInterval: 10_000,
    authenticator: opts.credsFile ? credsAuthenticator(readFileSync(opts.credsFile)) : undefined,
  });
  log.info({ server: nc.getServer() }, 'connected to NATS');
  void logStatus(nc, log);
  return nc;
}

async function logStatus(nc: NatsConnection, log: Logger): Promise<void> {
  for await (const s of nc.status()) {
    if (s.type === 'ping' || s.type === 'update') continue;
    const level = s.type === 'reconnect' ? 'info' : 'warn';
    log[level]({ status: s.type, server: 'server' in s ? s.server : undefined }, `NATS ${s.type}`);
  }
}
