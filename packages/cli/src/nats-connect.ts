import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats, createLogger, loadConfig, natsOptionsOf, RuntimeConfigSchema } from '@busway/runtime';

/**
 * A CLI command's NATS connection with the same credentials and TLS settings the workers read (`NATS_USER`,
 * `NATS_PASSWORD`, `NATS_CREDS`, `NATS_TLS_CA`, ...), as the NATS user `user` (its inbox is `_INBOX.<user>`).
 */
export async function connectCli(
  natsUrl: string,
  user: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<NatsConnection> {
  const config = loadConfig(RuntimeConfigSchema, { env, worker: user });
  // silent: `busway tail` writes its decoded messages to stdout
  return connectNats(natsOptionsOf({ ...config, natsUrl }, user), createLogger(user, 'silent'));
}
