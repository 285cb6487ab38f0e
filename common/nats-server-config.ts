import { devNatsPassword, NATS_USERS, natsPasswordVariable, natsPermissions, type NatsScope, type NatsUser } from './nats-users';

/**
 * nats-server configuration files with our users (common/nats-users.ts): the `authorization`
 * block that `npm run dev` and `npm test` write next to their server's other settings
 * (scripts/infra/spawn.ts, startNats), and the whole of deploy/nats-server.conf for compose
 * (`npm run ops -- nats server-config > deploy/nats-server.conf`; test/deploy/compose.test.ts
 * checks the file is what this writes).
 */

/**
 * The `authorization` block of a nats-server configuration. `password` gives each user's
 * password as written into the file: a quoted literal (dev, tests) or an unquoted `$VARIABLE`
 * that nats-server reads from its environment (compose).
 */
export function natsAuthorizationBlock(scope: NatsScope, password: (user: NatsUser) => { literal: string } | { variable: string }): string {
  const list = (subjects: string[]) => `[${subjects.map((s) => JSON.stringify(s)).join(', ')}]`;
  const users = NATS_USERS.map((user) => {
    const p = password(user);
    const perms = natsPermissions(user, scope);
    return [
      '    {',
      `      user: ${JSON.stringify(user)}`,
      `      password: ${'literal' in p ? JSON.stringify(p.literal) : `$${p.variable}`}`,
      '      permissions: {',
      `        publish: { allow: ${list(perms.publish)} }`,
      `        subscribe: { allow: ${list(perms.subscribe)} }`,
      '      }',
      '    }',
    ].join('\n');
  });
  return ['# Generated from common/nats-users.ts: one user per process, each with only the subjects it needs.', 'authorization {', '  users: [', ...users, '  ]', '}', ''].join('\n');
}

/** The dev and test servers' users: every password is its dev default. */
export function devNatsAuthorization(scope: NatsScope): string {
  return natsAuthorizationBlock(scope, (user) => ({ literal: devNatsPassword(user) }));
}

/**
 * deploy/nats-server.conf: one node, so JetStream fsyncs before it acknowledges a publish (see
 * common/nats.ts, "Durability"); the passwords come from the nats container's environment.
 */
export function composeNatsServerConfig(scope: NatsScope): string {
  return [
    '# nats-server for docker-compose, written by `npm run ops -- nats server-config > deploy/nats-server.conf`',
    '# (common/nats-server-config.ts); do not edit by hand. One node, so JetStream fsyncs before it',
    '# acknowledges a publish (see common/nats.ts, "Durability"). With 3 replicas in production, the default is fine.',
    'server_name: orders-nats',
    'listen: 0.0.0.0:4222',
    '# Monitoring (GET /healthz for the compose healthcheck, /varz, /jsz); not published to the host.',
    'http_port: 8222',
    'jetstream {',
    '  # The named volume nats-jetstream in docker-compose.yml.',
    '  store_dir: /data',
    '  sync_interval: always',
    '}',
    `# Passwords: $${NATS_USERS.map(natsPasswordVariable).join(', $')} from the environment (.env).`,
    natsAuthorizationBlock(scope, (user) => ({ variable: natsPasswordVariable(user) })),
  ].join('\n');
}
