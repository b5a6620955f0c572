import { readFileSync } from 'node:fs';
import {
  connect,
  credsAuthenticator,
  type ConnectionOptions,
  type NatsConnection,
} from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { RuntimeConfig } from './config.js';
import { ConfigError } from './errors.js';

export interface NatsOptions {
  /** Comma-separated server URLs. */
  url: string;
  /** NATS credentials file (JWT + seed). */
  credsFile?: string;
  /** Connection name shown by the server (`nats server report connections`). */
  name: string;
  /** User and password, for servers with user/password authorization. */
  user?: string;
  pass?: string;
  /** TLS files; any of them makes TLS required (no fallback to plain text). */
  tls?: NatsTlsFiles;
  /** Prefix of reply subjects (requests, pull fetches, KV watches): what the user's subscribe permission allows. */
  inboxPrefix?: string;
}

/** PEM files of a TLS connection: the server's CA, and for mutual TLS the client's certificate and key. */
export interface NatsTlsFiles {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

/** A worker's connection options from its config: credentials, TLS and an inbox of its own (`_INBOX.<worker>`). */
export function natsOptionsOf(config: RuntimeConfig, worker: string): NatsOptions {
  const { natsTlsCaFile: caFile, natsTlsCertFile: certFile, natsTlsKeyFile: keyFile } = config;
  if (Boolean(certFile) !== Boolean(keyFile)) {
    throw new ConfigError(
      'invalid configuration: natsTlsCertFile (env NATS_TLS_CERT) and natsTlsKeyFile (env NATS_TLS_KEY) go together',
    );
  }
  if (config.natsPassword && !config.natsUser) {
    throw new ConfigError(
      'invalid configuration: natsPassword (env NATS_PASSWORD) needs natsUser (env NATS_USER)',
    );
  }
  const requireTls = Boolean(caFile || certFile) || /(^|,)\s*tls:\/\//.test(config.natsUrl);
  return {
    url: config.natsUrl,
    credsFile: config.natsCreds,
    name: `busway-${worker}`,
    user: config.natsUser,
    pass: config.natsPassword,
    tls: requireTls ? { caFile, certFile, keyFile } : undefined,
    inboxPrefix: config.natsInboxPrefix ?? `_INBOX.${worker}`,
  };
}

/** The user, password, TLS and inbox parts of nats.js connection options (the credentials file is separate). */
export function natsSecurityOptions(opts: NatsOptions): Partial<ConnectionOptions> {
  const tls = opts.tls
    ? Object.fromEntries(Object.entries(opts.tls).filter(([, file]) => file !== undefined))
    : undefined;
  return {
    ...(opts.user !== undefined ? { user: opts.user, pass: opts.pass } : {}),
    ...(tls ? { tls } : {}),
    ...(opts.inboxPrefix ? { inboxPrefix: opts.inboxPrefix } : {}),
  };
}

/**
 * How every worker's connection moves messages (the bench's baselines connect the same way):
 * - no Error (and stack) made up front for every request: a JetStream publish is a request, and at ingest
 *   rates those stacks cost more CPU than the publish itself;
 * - writes gathered up to 256 KiB (nats.js's default 32 KiB is 2 to 3 batches of samples) before an inline
 *   flush: fewer socket writes per message. Whatever is gathered is still written when the task ends.
 */
export const NATS_CLIENT_TUNING = {
  noAsyncTraces: true,
  pendingLimit: 256 * 1024, // honoured by nats.js, not in its public option types
} as Partial<ConnectionOptions>;

/** Connects with unlimited reconnects and logs every status change: a worker outlives a NATS restart. */
export async function connectNats(opts: NatsOptions, log: Logger): Promise<NatsConnection> {
  const nc = await connect({
    servers: opts.url.split(',').map((s) => s.trim()),
    name: opts.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    pingInterval: 10_000,
    ...NATS_CLIENT_TUNING,
    authenticator: opts.credsFile ? credsAuthenticator(readFileSync(opts.credsFile)) : undefined,
    ...natsSecurityOptions(opts),
  });
  log.info({ server: nc.getServer(), tls: opts.tls !== undefined, user: opts.user }, 'connected to NATS');
  void logStatus(nc, log);
  return nc;
}

async function logStatus(nc: NatsConnection, log: Logger): Promise<void> {
  for await (const s of nc.status()) {
    if (s.type === 'ping' || s.type === 'update') continue;
    if (s.type === 'close') {
      // a drain or close asked for (a graceful stop) ends without an error: nothing to warn about
      const err = await nc.closed();
      if (err) log.warn({ err, status: s.type }, 'NATS connection closed on an error');
      else log.info({ status: s.type }, 'NATS connection closed');
      continue;
    }
    const level = s.type === 'reconnect' ? 'info' : 'warn';
    log[level]({ status: s.type, server: 'server' in s ? s.server : undefined }, `NATS ${s.type}`);
  }
}
