import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { eventSubject } from '../../../common/events';
import { statusEvents, terminalStatuses, type OrderStatus } from '../../../common/order/status';
import { orderWorkflowId } from '../../../common/order/workflow-contract';
import type { Sample, Work } from './load';

/**
 * Our orders as the load: POST /orders, and the order's end seen as its terminal event on NATS
 * (a core subscription to the terminal event subjects), never by GET /orders/{id}, which runs a
 * Temporal query per poll and would measure itself.
 */

export const BENCH_PRODUCT = { sku: 'BENCH-MUG', name: 'Benchmark mug', priceCents: 1250, stock: 1_000_000_000 };

const EARLY_ENDS_KEPT = 10_000;

/** Terminal events by order id: who waits for which order, and ends that came before anyone waited. */
export class TerminalEvents {
  private readonly waiting = new Map<string, (end: { at: number; status: OrderStatus }) => void>();
  private readonly early = new Map<string, { at: number; status: OrderStatus }>();
  private readonly subs: Subscription[];

  constructor(nc: NatsConnection, subjectPrefix: string) {
    const terminal = [...terminalStatuses].map((status) => ({ status, type: statusEvents[status] }));
    this.subs = terminal.map(({ status, type }) => nc.subscribe(eventSubject(subjectPrefix, type), {
      callback: (err, msg) => {
        const at = performance.now();
        if (err) return;
        let orderId: string | undefined;
        try { orderId = (JSON.parse(msg.string()) as { orderId?: string }).orderId; } catch { return; }
        if (!orderId) return;
        const resolve = this.waiting.get(orderId);
        if (resolve) { this.waiting.delete(orderId); resolve({ at, status }); return; }
        this.early.set(orderId, { at, status });
        // Against a running system other orders end too: keep only the latest ends nobody waits for yet.
        if (this.early.size > EARLY_ENDS_KEPT) this.early.delete(this.early.keys().next().value!);
      },
    }));
  }

  /** When the order's terminal event arrived (performance.now()), or undefined after `timeoutMs`. */
  wait(orderId: string, timeoutMs: number): Promise<{ at: number; status: OrderStatus } | undefined> {
    const seen = this.early.get(orderId);
    if (seen) { this.early.delete(orderId); return Promise.resolve(seen); }
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.waiting.delete(orderId); resolve(undefined); }, timeoutMs);
      this.waiting.set(orderId, (end) => { clearTimeout(timer); resolve(end); });
    });
  }

  close(): void {
    for (const s of this.subs) s.unsubscribe();
  }
}

export interface OrderTarget {
  /** The API processes; POSTs go to each in turn. */
  apiUrls: readonly string[];
  /** Sent as `Authorization: Bearer <key>` when set. */
  apiKey: string | undefined;
  terminal: TerminalEvents;
  timeoutMs: number;
}

/** One order: POST (with an Idempotency-Key, as a shop would), then wait for its terminal event. */
export function orderWork(target: OrderTarget): Work {
  let n = 0;
  return async (): Promise<Sample> => {
    n += 1;
    const body = {
      customerId: `bench-${n % 100}`, customerEmail: `bench-${n}@shop.example`, currency: 'EUR',
      items: [{ sku: BENCH_PRODUCT.sku, quantity: 1 }], payment: { token: 'tok_visa' },
    };
    const headers: Record<string, string> = { 'content-type': 'application/json', 'idempotency-key': randomUUID() };
    if (target.apiKey) headers.authorization = `Bearer ${target.apiKey}`;
    const sent = performance.now();
    const apiUrl = target.apiUrls[n % target.apiUrls.length]!;
    const res = await fetch(`${apiUrl}/orders`, { method: 'POST', headers, body: JSON.stringify(body), signal: AbortSignal.timeout(30_000) });
    const text = await res.text();
    const requestMs = performance.now() - sent;
    if (res.status !== 202) return { requestMs, outcome: `HTTP ${res.status}` };
    const { orderId } = JSON.parse(text) as { orderId: string };
    const end = await target.terminal.wait(orderId, target.timeoutMs);
    const workflowId = orderWorkflowId(orderId);
    if (!end) return { requestMs, outcome: 'no terminal event in time', workflowId };
    return { requestMs, totalMs: end.at - sent, outcome: end.status, workflowId };
  };
}

/** Creates the benchmark's product with stock for any run (PUT on the inventory service). */
/** `token`: inventory's token for the tools caller (INVENTORY_TOKEN of the system's configuration). */
export async function ensureBenchProduct(inventoryUrl: string, token: string): Promise<void> {
  const { sku, ...product } = BENCH_PRODUCT;
  const res = await fetch(`${inventoryUrl}/products/${sku}`, {
    method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'idempotency-key': `bench-${sku}-${randomUUID()}` }, body: JSON.stringify(product),
  });
  if (!res.ok) throw new Error(`could not create the benchmark product ${sku} at ${inventoryUrl}: HTTP ${res.status} ${(await res.text()).slice(0, 300)}`);
}
