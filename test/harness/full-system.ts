import { createApiKey, type Scope } from '../../api/api-keys';
import { startApi } from '../../api/server';
import type { Config } from '../../common/config';
import { setupStreams } from '../../common/nats';
import type { RunningProcess } from '../../common/run-process';
import { freePort } from '../../scripts/infra/ports';
import { startSmtpSink } from '../../scripts/infra/smtp-sink';
import { startAnalyticsConsumer } from '../../workers/analytics-consumer';
import { startEmailConsumer } from '../../workers/email-consumer';
import { startOutboxRelay } from '../../workers/outbox-relay';
import { startTemporalWorker } from '../../workers/temporal-worker';
import { quietLogger, startPeers, TEST_CALLERS, testConfig, type Peers } from './system';

type ProcessName = 'worker' | 'relay' | 'email' | 'analytics' | 'api';

export interface FullSystem {
  peers: Peers;
  smtp: Awaited<ReturnType<typeof startSmtpSink>>;
  config: Config;
  /** The configuration of the API (its own inventory caller token): start another API from this one. */
  apiConfig: Config;
  apiUrl: string;
  /** Keys made at start: a shop's (client `test-shop`) and an operator's (client `test-operator`). */
  shopKey: string;
  operatorKey: string;
  /** A new API key for `clientId` (a shop unless `scope` says operator). */
  createApiKey(clientId: string, scope?: Scope): Promise<string>;
  /** Stops one of our processes (as a crash or deploy would) and starts a new one in its place. */
  restart(name: Exclude<ProcessName, 'api'>, downMs?: number): Promise<void>;
  /** Stops one of our processes and leaves it down (an outage) until `restart` starts it again. */
  stopProcess(name: Exclude<ProcessName, 'api'>): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Every process of ours, in this test process, on real infrastructure: the API, the Temporal
 * worker (on the dev server `npm test` started), the relay, both consumers, real inventory and
 * payment services (the payment webhook pointed at the API), Postgres, NATS and an SMTP server.
 */
export async function startFullSystem(overrides: Partial<Record<keyof Config, string>> = {}): Promise<FullSystem> {
  const apiPort = await freePort();
  const [peers, smtp] = await Promise.all([
    startPeers({ webhookUrl: `http://127.0.0.1:${apiPort}/webhooks/payments`, webhookSecret: 'test-webhook-secret' }),
    startSmtpSink({ port: 0 }),
  ]);
  const config = testConfig({
    DATABASE_URL: peers.database.url, INVENTORY_URL: peers.inventoryUrl, PAYMENT_URL: peers.paymentUrl, SMTP_URL: smtp.url,
    INVENTORY_TOKEN: TEST_CALLERS.worker, PAYMENT_TOKEN: TEST_CALLERS.worker,
    API_PORT: String(apiPort), PAYMENT_WEBHOOK_SECRET: 'test-webhook-secret', ...overrides,
  });
  await setupStreams(config); // as the admin user: the relay and consumers may not create streams
  const starters: Record<Exclude<ProcessName, 'api'>, () => Promise<RunningProcess>> = {
    worker: () => startTemporalWorker(config, quietLogger),
    relay: () => startOutboxRelay(config, quietLogger),
    email: () => startEmailConsumer(config, quietLogger),
    analytics: () => startAnalyticsConsumer(config, quietLogger),
  };
  const processes = new Map<ProcessName, RunningProcess>();
  for (const [name, start] of Object.entries(starters)) processes.set(name as ProcessName, await start());
  const apiConfig: Config = { ...config, INVENTORY_TOKEN: TEST_CALLERS.api, PAYMENT_TOKEN: TEST_CALLERS.api };
  const api = await startApi(apiConfig, quietLogger);
  processes.set('api', api);
  const newKey = async (clientId: string, scope: Scope = 'shop') => (await createApiKey(peers.db, clientId, scope)).key;
  return {
    peers, smtp, config, apiConfig, apiUrl: api.url,
    shopKey: await newKey('test-shop'),
    operatorKey: await newKey('test-operator', 'operator'),
    createApiKey: newKey,
    async restart(name, downMs = 0) {
      await processes.get(name)?.stop();
      processes.delete(name);
      if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
      processes.set(name, await starters[name]());
    },
    async stopProcess(name) {
      await processes.get(name)?.stop();
      processes.delete(name);
    },
    async stop() {
      for (const p of [...processes.values()].reverse()) await p.stop();
      await smtp.stop();
      await peers.stop();
    },
  };
}
