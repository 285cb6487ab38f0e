import { jetstreamManager } from '@nats-io/jetstream';
import { Client } from 'pg';
import { loadConfig } from '../../common/config';
import { connectNats } from '../../common/nats';
import { terminalStatuses } from '../../common/order/status';
import type { DevSystem } from '../dev/system';
import type { PlacedOrder } from './load';


/** What is still moving: orders not terminal, events not published, messages not consumed. */
async function unsettled(system: DevSystem, orderIds: string[], stream: string): Promise<{ open: number; unpublished: number; unconsumed: number }> {
  const db = new Client({ connectionString: system.env.DATABASE_URL });
  await db.connect();
  try {
    const open = Number((await db.query('SELECT count(*) AS n FROM orders WHERE id = ANY($1::uuid[]) AND NOT (status::text = ANY($2))', [orderIds, [...terminalStatuses]])).rows[0].n);
    const unpublished = Number((await db.query('SELECT count(*) AS n FROM outbox_events WHERE published_at IS NULL')).rows[0].n);
    const nc = await connectNats(loadConfig({ ...process.env, ...system.env }), 'admin', { name: 'chaos' });
    try {
      const jsm = await jetstreamManager(nc);
      let unconsumed = 0;
      for await (const c of jsm.consumers.list(stream)) unconsumed += c.num_pending + c.num_ack_pending;
      return { open, unpublished, unconsumed };
    } finally {
      await nc.close();
    }
  } finally {
    await db.end();
  }
}

/** Waits until every accepted order is terminal, the outbox is drained and the consumers have caught up. */
export async function waitForQuiet(system: DevSystem, load: PlacedOrder[], say: (m: string) => void, timeoutMs: number): Promise<boolean> {
  const orderIds = [...new Set(load.flatMap((o) => [...o.orderIds]))];
  const stream = loadConfig().EVENTS_STREAM;
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const state = await unsettled(system, orderIds, stream).catch((err: unknown) => ({ error: (err as Error).message }));
    const line = JSON.stringify(state);
    if ('open' in state && state.open === 0 && state.unpublished === 0 && state.unconsumed === 0) return true;
    if (line !== last) say(`settling: ${line}`);
    last = line;
    await new Promise((r) => setTimeout(r, 2_000));
  }
  return false;
}
