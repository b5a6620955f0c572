// The files generated from the access table: nats-server users, nsc commands, the Helm chart's worker table.
import { stringify } from 'yaml';
import {
  inboxPrefixOf,
  natsPermissionsOf,
  natsUserOf,
  observerPermissions,
  OBSERVER,
  OPERATOR,
  operatorPermissions,
  PROVISIONER,
  provisionerPermissions,
  WORKER_ACCESS,
  type NatsPermissions,
  type WorkerAccess,
} from './nats-access.js';

/** Where every generated file starts: they are outputs, a change goes into the table. */
export const GENERATED_HEADER =
  'Generated from packages/runtime/src/nats-access.ts by `node deploy/nats/generate.mjs`: do not edit.';

/** Env variable holding a user's password on the nats-server side: busway-ingest-dsx -> BUSWAY_NATS_PASSWORD_INGEST_DSX. */
export function passwordEnvOf(worker: string): string {
  return `BUSWAY_NATS_PASSWORD_${worker.replace(/[^A-Za-z0-9]+/g, '_').toUpperCase()}`;
}

/** One user of a nats-server `users = [...]` list; subjects quoted so that `$JS...` is never read as a variable. */
export function renderNatsUser(worker: string, permissions: NatsPermissions): string {
  const list = (subjects: string[]) => subjects.map((s) => `        ${JSON.stringify(s)}`).join('\n');
  return [
    `  {`,
    `    user: ${JSON.stringify(natsUserOf(worker))}`,
    `    password: $${passwordEnvOf(worker)}`,
    `    permissions: {`,
    `      publish: { allow: [`,
    list(permissions.publish),
    `      ] }`,
    `      subscribe: { allow: [`,
    list(permissions.subscribe),
    `      ] }`,
    `    }`,
    `  }`,
  ].join('\n');
}

/** The users that are not workers: the provisioning job, and the CLI's observer and operator (people). */
export function nonWorkerUsers(): [string, NatsPermissions][] {
  return [
    [PROVISIONER, provisionerPermissions()],
    [OBSERVER, observerPermissions()],
    [OPERATOR, operatorPermissions()],
  ];
}

/** Every user: the workers of the table, the provisioner and the CLI's roles. */
export function usersOf(workers: readonly WorkerAccess[] = WORKER_ACCESS): [string, NatsPermissions][] {
  return [
    ...workers.map((w): [string, NatsPermissions] => [w.worker, natsPermissionsOf(w)]),
    ...nonWorkerUsers(),
  ];
}

/**
 * The `users = [...]` list for a nats-server account (include it inside `accounts { BUSWAY { ... } }`).
 * Passwords are variables, resolved from the server's environment (a Secret), plain or bcrypt-hashed.
 */
export function renderNatsUsers(workers: readonly WorkerAccess[] = WORKER_ACCESS): string {
  const users = usersOf(workers).map(([name, p]) => renderNatsUser(name, p));
  return [
    `# ${GENERATED_HEADER}`,
    '# Busway NATS users with least-privilege permissions. Include inside an account:',
    '#   accounts { BUSWAY { jetstream: enabled, include ./busway-users.conf } }',
    '# Each password comes from the server environment: BUSWAY_NATS_PASSWORD_<WORKER> (plain or bcrypt).',
    'users = [',
    users.join(',\n'),
    ']',
    '',
  ].join('\n');
}

/** nsc commands that create the same users in an operator-mode (JWT) account; their .creds go to NATS_CREDS. */
export function renderNscScript(
  workers: readonly WorkerAccess[] = WORKER_ACCESS,
  account = 'BUSWAY',
): string {
  const lines = usersOf(workers).map(([name, p]) =>
    [
      `nsc add user --account "$ACCOUNT" --name ${natsUserOf(name)}`,
      `  --allow-pub '${p.publish.join(',')}'`,
      `  --allow-sub '${p.subscribe.join(',')}'`,
    ].join(' \\\n'),
  );
  return [
    '#!/bin/sh',
    `# ${GENERATED_HEADER}`,
    '# Creates every Busway user with its permissions in an nsc-managed account (operator / JWT mode), then',
    '# exports their credentials: ./creds/busway-<worker>.creds, one Secret key each (NATS_CREDS).',
    'set -eu',
    `ACCOUNT="\${ACCOUNT:-${account}}"`,
    'mkdir -p creds',
    ...lines,
    ...usersOf(workers).map(
      ([name]) =>
        `nsc generate creds --account "$ACCOUNT" --name ${natsUserOf(name)} > creds/${natsUserOf(name)}.creds`,
    ),
    '',
  ].join('\n');
}

/** What the Helm chart needs of each worker, as YAML read by its templates with `.Files.Get`. */
export function renderChartAccess(workers: readonly WorkerAccess[] = WORKER_ACCESS): string {
  const doc = {
    workers: Object.fromEntries(
      workers.map((w) => [
        w.worker,
        {
          zone: w.zone,
          scaling: w.scaling,
          natsUser: natsUserOf(w.worker),
          inboxPrefix: inboxPrefixOf(w.worker),
          passwordEnv: passwordEnvOf(w.worker),
          consumers: (w.consume ?? []).map((c) => ({ stream: c.stream, durable: c.durable })),
          uses: [...(w.uses ?? [])],
          fieldEgress: (w.fieldEgress ?? []).map((p) => ({ ...p })),
          fieldIngress: (w.fieldIngress ?? []).map((p) => ({ ...p })),
          serverUser: renderNatsUser(w.worker, natsPermissionsOf(w)),
        },
      ]),
    ),
    provisioner: {
      natsUser: natsUserOf(PROVISIONER),
      inboxPrefix: inboxPrefixOf(PROVISIONER),
      passwordEnv: passwordEnvOf(PROVISIONER),
      serverUser: renderNatsUser(PROVISIONER, provisionerPermissions()),
    },
    // people running the CLI against the deployment (busway status, dlq, tail, redrive)
    cliRoles: Object.fromEntries(
      nonWorkerUsers()
        .filter(([name]) => name !== PROVISIONER)
        .map(([role, permissions]) => [
          role,
          {
            natsUser: natsUserOf(role),
            passwordEnv: passwordEnvOf(role),
            serverUser: renderNatsUser(role, permissions),
          },
        ]),
    ),
  };
  return `# ${GENERATED_HEADER}\n${stringify(doc, { lineWidth: 0 })}`;
}
