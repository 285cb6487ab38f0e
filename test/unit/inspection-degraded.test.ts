import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import express from 'express';
import pino from 'pino';
import type { ApiDeps } from '../../api/deps';
import { operatorInspectionRouter } from '../../api/routes/operator-inspection';
import { ConfigError, loadConfig } from '../../common/config';
import type { Db } from '../../common/db';
import { closeServer, problemErrorHandler } from '../../common/http';
import { openInspectionSources, type InspectionSources } from '../../common/inspection/sources';
import { findStuckOrders } from '../../common/inspection/stuck';
import { serveOnLoopback } from '../harness/serve';

/**
 * The operator inspection when a source is missing: Temporal down must not make `ops stuck` /
 * GET /operator/stuck wait TEMPORAL_CALL_TIMEOUT once per open order, and an API without
 * PAYMENT_TOKEN (NODE_ENV=production) must start, only its inspection answering 503. The order
 * store, Temporal client and peers are in-memory fakes (FakeDb, FakeTemporal) counting calls;
 * the router runs in a real express app on a real port.
 */
const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000);

function fakeDb(openOrders: number): Db {
  const rows = Array.from({ length: openOrders }, () => ({ id: randomUUID(), status: 'PAYMENT_PENDING', createdAt: minutesAgo(30), updatedAt: minutesAgo(30) }));
  return {
    order: {
      findMany: async (args: { where: { id?: unknown } }) => (args.where.id ? [] : rows),
      findUnique: async ({ where }: { where: { id: string } }) => {
        const row = rows.find((r) => r.id === where.id);
        return row && { ...row, clientId: 'shop', customerId: 'c1', totalCents: 1, currency: 'EUR', cancelReasonCode: null, pendingUndos: 0, correlationId: 'c' };
      },
    },
    outboxEvent: { findMany: async () => [] },
    processedEvent: { findMany: async () => [] },
    sentEmail: { findMany: async () => [] },
  } as unknown as Db;
}

/** Temporal that is down: every call fails (as a connection timeout would, only at once); calls counted. */
function fakeTemporal(opts: { listWorks?: boolean } = {}) {
  const calls = { list: 0, describe: 0, fetchHistory: 0 };
  const down = () => new Error('14 UNAVAILABLE: connection refused');
  const temporal = {
    withDeadline: <T>(_deadline: number, call: () => Promise<T>) => call(),
    workflow: {
      options: { loadedDataConverter: {} },
      list() {
        calls.list += 1;
        if (opts.listWorks) return (async function* () {})();
        return (async function* () { throw down(); })();
      },
      getHandle: () => ({
        describe: async () => { calls.describe += 1; throw down(); },
        fetchHistory: async () => { calls.fetchHistory += 1; throw down(); },
      }),
    },
  } as unknown as Client;
  return { temporal, calls };
}

function sources(db: Db, temporal: Client): InspectionSources {
  const peerDown = async () => { throw new Error('peer unreachable'); };
  return {
    db, temporal,
    jetstream: () => Promise.reject(new Error('NATS down')),
    peers: () => ({ inventory: { getReservation: peerDown }, payment: { forOrder: peerDown } }) as unknown as ReturnType<InspectionSources['peers']>,
    settings: { EVENTS_STREAM: 'ORDER_EVENTS', EVENTS_SUBJECT_PREFIX: 'orders.events', TEMPORAL_CALL_TIMEOUT: 10_000, TEMPORAL_NAMESPACE: 'default', TEMPORAL_UI_ORIGIN: [] },
  };
}

describe('the stuck list with Temporal down', () => {
  it('asks Temporal once (the list) and then lists the open orders by their rows alone, saying why', async () => {
    const { temporal, calls } = fakeTemporal();
    const stuck = await findStuckOrders(sources(fakeDb(5), temporal), { olderThanMs: 10 * 60_000 });
    expect(calls).toEqual({ list: 1, describe: 0, fetchHistory: 0 });
    expect(stuck).toHaveLength(5);
    for (const entry of stuck) {
      expect(entry.why).toBe('not terminal past the threshold');
      expect(entry.diagnosis).toMatch(/cannot read the workflow: Temporal: 14 UNAVAILABLE/);
    }
  });

  it('stops asking once a describe fails, when Temporal went away after the list', async () => {
    const { temporal, calls } = fakeTemporal({ listWorks: true });
    const stuck = await findStuckOrders(sources(fakeDb(5), temporal), { olderThanMs: 10 * 60_000 });
    expect(calls).toEqual({ list: 1, describe: 1, fetchHistory: 0 });
    expect(stuck).toHaveLength(5);
  });
});

describe('an API process without PAYMENT_TOKEN (NODE_ENV=production)', () => {
  const config = loadConfig({ NODE_ENV: 'production', INVENTORY_TOKEN: 'an-inventory-token-of-its-own' });
  const unused = new Proxy({}, { get: (_t, prop) => { throw new Error(`used ${String(prop)} before any request`); } });

  it('opens its inspection sources (the peers are made on first use) and fails only there, naming the variable', async () => {
    const { sources: opened, close } = await openInspectionSources(config, { db: unused as Db, temporal: unused as Client });
    expect(() => opened.peers()).toThrow(ConfigError);
    expect(() => opened.peers()).toThrow(/^PAYMENT_TOKEN is not set/);
    await close();
  });

  it('answers the inspection endpoints 503 with the reason, and nothing else is touched', async () => {
    const { sources: opened } = await openInspectionSources(config, { db: unused as Db, temporal: unused as Client });
    const app = express();
    app.use((_req, res, next) => { res.locals.client = { clientId: 'ops', keyId: 'k', scopes: ['operator'] }; next(); });
    app.use(operatorInspectionRouter({ inspection: opened } as ApiDeps));
    app.use(problemErrorHandler(pino({ level: 'silent' })));
    const { server, url } = await serveOnLoopback(app);
    try {
      for (const path of ['/operator/stuck', `/operator/orders/${randomUUID()}/inspection`]) {
        const res = await fetch(`${url}${path}`);
        expect([path, res.status]).toEqual([path, 503]);
        expect(await res.json()).toMatchObject({ type: expect.stringMatching(/\/inspection-unavailable$/), detail: expect.stringMatching(/PAYMENT_TOKEN is not set/) });
      }
    } finally {
      await closeServer(server);
    }
  });
});
