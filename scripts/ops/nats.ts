import { loadConfig } from '../../common/config';
import { dlqStreamName, setupStreams } from '../../common/nats';
import { composeNatsServerConfig } from '../../common/nats-server-config';
import { natsScope } from '../../common/nats-users';
import type { OpsCommand } from './command';

/**
 * `ops nats ...`: the JetStream streams and the nats-server users (common/nats-users.ts).
 * `nats setup` runs as the admin NATS user (NATS_USER/NATS_PASSWORD, default `admin`).
 */
export const natsCommands: OpsCommand[] = [
  {
    name: 'nats setup', args: '', summary: 'create the events and dead-letter streams, or update them to the current settings (admin user)',
    run: async () => {
      const config = loadConfig();
      await setupStreams(config);
      console.log(`streams ${config.EVENTS_STREAM} and ${dlqStreamName(config)} are in place with the current settings`);
    },
  },
  {
    name: 'nats server-config', args: '', summary: 'print the nats-server configuration with our users (deploy/nats-server.conf)',
    run: async () => {
      process.stdout.write(composeNatsServerConfig(natsScope(loadConfig())));
    },
  },
];
