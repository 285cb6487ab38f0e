import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import pino from 'pino';
import { bearer } from '../../common/clients/http-json';
import { InventoryClient } from '../../common/clients/inventory-client';
import { PaymentClient } from '../../common/clients/payment-client';
import { loadConfig, type Config } from '../../common/config';
import { createDb, type Db } from '../../common/db';
import { migrate } from '../../prisma/migrate';
import { startInventoryService } from '../../services/inventory/server';
import { startPaymentService } from '../../services/payment/server';
import { createTestDatabase, type TestDatabase } from './database';

export const quietLogger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/**
 * The peers' callers in tests, a fresh token each per test process: the API and the worker as in
 * production, and the tests themselves ("tools": faults, 3-D Secure, direct reads).
 */
export const TEST_CALLERS = { api: `test-api-${randomUUID()}`, worker: `test-worker-${randomUUID()}`, tools: `test-tools-${randomUUID()}` };
const INVENTORY_CALLERS = new Map(Object.entries(TEST_CALLERS));
const PAYMENT_CALLERS = new Map([['api', TEST_CALLERS.api], ['worker', TEST_CALLERS.worker], ['tools', TEST_CALLERS.tools]]);

/** Headers of a test's own JSON call to a peer (faults, 3-D Secure, direct reads): the tools caller's token. */
export function peerHeaders(): Record<string, string> {
  return { 'content-type': 'application/json', ...bearer(TEST_CALLERS.tools) };
}

export interface Peers {
  database: TestDatabase;
  db: Db;
  /** The same database through node-postgres (what the activities use). */
  pool: Pool;
  inventory: InventoryClient;
  payment: PaymentClient;
  inventoryUrl: string;
  paymentUrl: string;
  stop(): Promise<void>;
}

/**
 * A fresh, migrated database and real inventory and payment services on it, listening on free
 * ports: what the activities need. Each test file gets its own.
 */
export async function startPeers(opts: { webhookUrl?: string; webhookSecret?: string } = {}): Promise<Peers> {
  const database = await createTestDatabase('orders');
  await migrate(database.url);
  const inventoryService = await startInventoryService({
    databaseUrl: database.url, port: 0, logger: quietLogger, callers: INVENTORY_CALLERS, testMode: true,
  });
  const paymentService = await startPaymentService({
    databaseUrl: database.url, port: 0, logger: quietLogger, callers: PAYMENT_CALLERS, testMode: true, ...opts,
  });
  const db = createDb(database.url);
  const pool = new Pool({ connectionString: database.url });
  return {
    database,
    db,
    pool,
    // The tests' own client (catalog set-up, direct reads) and the workflow tests' activities: the tools caller.
    inventory: new InventoryClient(inventoryService.url, TEST_CALLERS.tools, 5_000),
    payment: new PaymentClient(paymentService.url, TEST_CALLERS.tools, 5_000),
    inventoryUrl: inventoryService.url,
    paymentUrl: paymentService.url,
    async stop() {
      await db.$disconnect();
      await pool.end();
      await paymentService.stop();
      await inventoryService.stop();
      await database.drop();
    },
  };
}

/** Configuration for in-process components under test, pointing at the test's own resources. */
export function testConfig(overrides: Partial<Record<keyof Config, string>>): Config {
  return loadConfig({
    TEMPORAL_TASK_QUEUE: `test-${randomUUID()}`,
    EVENTS_STREAM: `TEST_${randomUUID().replace(/-/g, '').slice(0, 12)}`,
    EVENTS_SUBJECT_PREFIX: `test.${randomUUID().replace(/-/g, '').slice(0, 12)}`,
    NATS_URL: process.env.TEST_NATS_URL,
    TEMPORAL_ADDRESS: process.env.TEST_TEMPORAL_ADDRESS,
    RELAY_POLL_INTERVAL_MS: '50',
    ...overrides,
  });
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 30_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
}

/** Switches a peer service's test faults (latency, failing calls); fields left out are reset to 0. */
export async function setPeerFaults(serviceUrl: string, faults: { latencyMs?: number; failNextRequests?: number }): Promise<void> {
  const res = await fetch(`${serviceUrl}/test/faults`, {
    method: 'PUT', headers: peerHeaders(), body: JSON.stringify({ latencyMs: 0, failNextRequests: 0, ...faults }),
  });
  if (!res.ok) throw new Error(`could not set faults on ${serviceUrl}: ${res.status} ${await res.text()}`);
}
