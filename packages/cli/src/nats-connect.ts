import type { NatsConnection } from '@nats-io/transport-node';
import {
  connectNats,
  createLogger,
  loadConfig,
  natsOptionsOf,
  natsUserOf,
  OBSERVER,
  OPERATOR,
  PROVISIONER,
  RuntimeConfigSchema,
} from '@busway/runtime';

/** The access-table user each NATS command of the CLI is made for (any administrator may run them too). */
export const CLI_ROLES = {
  status: OBSERVER,
  dlq: OBSERVER,
  tail: OBSERVER,
  redrive: OPERATOR,
  provision: PROVISIONER,
} as const;
export type CliCommand = keyof typeof CLI_ROLES;

/**
 * A CLI command's NATS connection with the same credentials and TLS settings the workers read (`NATS_USER`,
 * `NATS_PASSWORD`, `NATS_CREDS`, `NATS_TLS_CA`, ...), replies under its role's inbox (`_INBOX.<role>`), which
 * that role's user may subscribe to.
 */
export async function connectCli(
  natsUrl: string,
  command: CliCommand,
  env: NodeJS.ProcessEnv = process.env,
): Promise<NatsConnection> {
  const role = CLI_ROLES[command];
  const config = loadConfig(RuntimeConfigSchema, { env, worker: role });
  // silent: `busway tail` writes its decoded messages to stdout
  return connectNats(natsOptionsOf({ ...config, natsUrl }, role), createLogger(role, 'silent'));
}

/** An error's message, with what to do when NATS refused the command to the user it ran as. */
export function explainCliError(
  command: string,
  message: string,
  env: NodeJS.ProcessEnv = process.env,
): string {
  if (!/Permissions? Violation/i.test(message) || !(command in CLI_ROLES)) return message;
  const needed = natsUserOf(CLI_ROLES[command as CliCommand]);
  const user = env.NATS_USER ?? (env.NATS_CREDS ? `the user of ${env.NATS_CREDS}` : 'no user');
  return `${message}\nNATS refused this to ${user}: busway ${command} runs as ${needed} (deploy/nats/busway-users.conf) or an administrator`;
}
