import type { JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { Client, Connection } from '@temporalio/client';
import { InventoryClient } from '../clients/inventory-client';
import { PaymentClient } from '../clients/payment-client';
import type { Config } from '../config';
import { createDb, dbTimeouts, type Db } from '../db';
import { connectNats, natsManager } from '../nats';
import { temporalDataConverter } from '../temporal-connection';

/** Settings an inspection reads with (all from common/config.ts). */
export type InspectionSettings = Pick<Config,
  'EVENTS_STREAM' | 'EVENTS_SUBJECT_PREFIX' | 'TEMPORAL_CALL_TIMEOUT' | 'TEMPORAL_NAMESPACE' | 'TEMPORAL_UI_ORIGIN'>;

/** Where an inspection reads from: the order service's database, Temporal, NATS and the two peers. */
export interface InspectionSources {
  db: Db;
  temporal: Client;
  /** JetStream as the read-only `inspector` NATS user; connects on first use, so a NATS outage fails only that part. */
  jetstream(): Promise<JetStreamManager>;
  /**
   * The peers' clients, made on first use: their tokens (INVENTORY_TOKEN, PAYMENT_TOKEN) are read
   * then, not when the process starts, so an API without PAYMENT_TOKEN still starts and only its
   * inspection fails. Throws the ConfigError naming a token not set (NODE_ENV=production).
   */
  peers(): InspectionPeers;
  settings: InspectionSettings;
}

export interface InspectionPeers {
  inventory: InventoryClient;
  payment: PaymentClient;
}

/**
 * Sources for a process: NATS (user `inspector`, or NATS_USER) connected lazily, the peers with
 * this process's INVENTORY_TOKEN / PAYMENT_TOKEN (operators' tools: the `tools` caller), made lazily. The API
 * passes its own database and Temporal client; the CLI lets this open them. `close` ends only what
 * was opened here.
 */
export async function openInspectionSources(config: Config, shared: { db?: Db; temporal?: Client } = {}): Promise<{ sources: InspectionSources; close(): Promise<void> }> {
  const db = shared.db ?? createDb(config.DATABASE_URL, dbTimeouts(config));
  const connection = shared.temporal ? undefined : await Connection.connect({ address: config.TEMPORAL_ADDRESS });
  const temporal = shared.temporal ?? new Client({ connection, namespace: config.TEMPORAL_NAMESPACE, dataConverter: temporalDataConverter(config) });
  let nats: Promise<NatsConnection> | undefined;
  const jetstream = async () => {
    nats ??= connectNats(config, 'inspector', { name: 'inspector' }).catch((err: unknown) => {
      nats = undefined; // the next inspection tries again
      throw err;
    });
    return natsManager(await nats);
  };
  let peers: InspectionPeers | undefined;
  const sources: InspectionSources = {
    db, temporal, jetstream,
    peers: () => peers ??= {
      inventory: new InventoryClient(config.INVENTORY_URL, config.INVENTORY_TOKEN, config.HTTP_CLIENT_TIMEOUT_MS),
      payment: new PaymentClient(config.PAYMENT_URL, config.PAYMENT_TOKEN, config.HTTP_CLIENT_TIMEOUT_MS),
    },
    settings: config,
  };
  return {
    sources,
    async close() {
      const open = await nats?.catch(() => undefined);
      await open?.drain().catch(() => open.close());
      await connection?.close();
      if (!shared.db) await db.$disconnect();
    },
  };
}
