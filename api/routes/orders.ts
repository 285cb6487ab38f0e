import { randomUUID } from 'node:crypto';
import {
  ApplicationFailure, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError, WorkflowUpdateStage, type WorkflowUpdateHandle,
} from '@temporalio/client';
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { TransientPeerError } from '../../common/clients/http-json';
import type { Product } from '../../common/clients/inventory-client';
import { problem, validationProblem } from '../../common/http';
import { totalOf, type PricedLine } from '../../common/order/lines';
import { discardStoredSecrets, storeOrderSecrets, type OrderSecrets } from '../../common/order-vault';
import { orderStatuses, terminalStatuses, type OrderStatus } from '../../common/order/status';
import {
  cancelOrderUpdate, ORDER_WORKFLOW_TYPE, orderStatusQuery, orderWorkflowId, orderWorkflowStartOptions,
  CancelRefusedError, type CancelOrderResult, type OrderWorkflowInput,
} from '../../common/order/workflow-contract';
import { CLIENT_ID_PATTERN } from '../api-keys';
import { authenticatedClient, isOperator } from '../auth';
import type { ApiDeps } from '../deps';
import { idempotency, keyedRequestOf, type KeyedRequestInfo } from '../idempotency';
import { cancelUpdateIdFor, orderIdFor } from '../order-id';
import { CLIENT_MEMO, orderNotFound, orderOwnerLookup } from '../order-owner';
import { readOrderRow } from '../order-row';
import { correlationIdOf } from '../access-log';
import { bindOrderId } from '../../common/correlation-context';
import { createOrderBody, CUSTOMER_ID_PATTERN, duplicateSkus, MAX_LIST_LIMIT, MAX_ORDER_TOTAL_CENTS, orderIdParam, type CreateOrderBody } from '../schemas';

function parseOrderId(req: Request): string {
  const id = orderIdParam.safeParse(req.params.orderId);
  if (!id.success) throw validationProblem(id.error, 'order id');
  return id.data;
}

const listQuery = z.strictObject({
  status: z.enum(orderStatuses).optional(),
  // Checked like a customer id: any other text (a NUL byte, say) could match no order, and Postgres refuses some.
  customerId: z.string().regex(CUSTOMER_ID_PATTERN, 'must be 1-128 characters of letters, digits and ._:@-').optional(),
  limit: z.string().regex(/^\d{1,3}$/, `must be a whole number from 1 to ${MAX_LIST_LIMIT}`)
    .transform(Number).pipe(z.number().int().min(1).max(MAX_LIST_LIMIT)).default(20),
  cursor: z.string().min(1).max(200).optional(),
  /** Operators only (a shop sees its own orders): one client's orders. */
  clientId: z.string().regex(CLIENT_ID_PATTERN).optional(),
});

/** Opaque cursor for keyset pagination over (createdAt desc, id desc). */
const cursorCodec = {
  encode: (createdAt: Date, id: string) => Buffer.from(JSON.stringify([createdAt.toISOString(), id])).toString('base64url'),
  decode(cursor: string): { createdAt: Date; id: string } {
    try {
      const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [string, string];
      const date = new Date(createdAt);
      if (Number.isNaN(date.getTime()) || !orderIdParam.safeParse(id).success) throw new Error('bad cursor');
      return { createdAt: date, id };
    } catch {
      // Well-formed for the schema, but not one of ours: 422, as for the other rules the schema cannot state.
      throw problem(422, 'invalid-cursor', 'Invalid cursor', 'Pass back the nextCursor value of a previous page unchanged.');
    }
  },
};

/** What a 202 to POST /orders says; the same for every answer to one keyed request. */
interface AcceptedOrder {
  orderId: string;
  totalCents: number;
  currency: string;
  correlationId: string;
}

/** Kept in a keyed order's workflow memo: what its start was asked with, to answer a retry that finds it started. */
const KEYED_START_MEMO = 'apiRequest';
interface KeyedStartMemo {
  requestHash: string;
  totalCents: number;
  currency: string;
  correlationId: string;
}

function sendAccepted(res: Response, a: AcceptedOrder): void {
  res.status(202).location(`/orders/${a.orderId}`).set('x-correlation-id', a.correlationId)
    .json({ orderId: a.orderId, status: 'PENDING', totalCents: a.totalCents, currency: a.currency });
}

const keyReused = () => problem(422, 'idempotency-key-reused', 'Idempotency-Key reused with a different request',
  'This key was first used with another request; use a new key for a new operation.');

/** The start (or a cancel) may have happened: say so, and how to find out safely. */
function outcomeUnknown(res: Response, what: 'start' | 'cancel', orderId: string, keyed: boolean) {
  res.set('retry-after', '2');
  const happened = what === 'start'
    ? 'The workflow engine did not confirm the start of this order in time, so whether it was placed is not known.'
    : 'The workflow engine did not confirm this cancel in time, so whether it reached the order is not known.';
  const next = what === 'start'
    ? keyed
      ? 'Retry with the same Idempotency-Key: that is safe, and answers with this order if it was placed.'
      : `Look the order up at /orders/${orderId} before placing it again; with an Idempotency-Key a retry is always safe.`
    : keyed
      ? `Retry with the same Idempotency-Key (safe), and follow the order at /orders/${orderId}.`
      : `Retry (cancelling twice is harmless, and with the same Idempotency-Key the retry joins the first), and follow the order at /orders/${orderId}.`;
  return problem(503, what === 'start' ? 'order-outcome-unknown' : 'cancel-outcome-unknown',
    what === 'start' ? 'Order outcome unknown' : 'Cancel outcome unknown', `${happened} ${next}`, { orderId });
}

/** Does a recorded order say what this request asks for? (The card token is not recorded; the rest is.) */
function sameOrder(row: { customerId: string; customerEmail: string; currency: string; lines: { sku: string; quantity: number }[] }, order: CreateOrderBody): boolean {
  const lines = (items: { sku: string; quantity: number }[]) => items.map((l) => `${l.sku}\n${l.quantity}`).sort().join('\n\n');
  return row.customerId === order.customerId && row.customerEmail === order.customerEmail && row.currency === order.currency
    && lines(row.lines) === lines(order.items);
}

/**
 * The failure types a refusal by the cancel validator arrives with: Temporal names an error thrown
 * in workflow code after its class, older SDKs after its `name`.
 */
const CANCEL_REFUSED_TYPES = new Set([CancelRefusedError.name, new CancelRefusedError('').name]);

/** Thin REST layer over the order workflow: validate, price, start, signal; read from the database. */
export function ordersRouter({
  db, pool, temporal, inventory, taskQueue, logger, paymentConfirmationTimeoutMs, idempotencyKeyTtlMs, temporalCallTimeoutMs,
}: ApiDeps): Router {
  const router = Router();
  const keyed = idempotency(pool, idempotencyKeyTtlMs, logger);
  /** Every call to Temporal ends by its deadline: a Temporal that answers late, or not at all, holds no request open. */
  const withDeadline = <T>(call: () => Promise<T>): Promise<T> => temporal.withDeadline(Date.now() + temporalCallTimeoutMs, call);

  /**
   * A keyed order that an earlier attempt of the same request already placed: the database knows
   * it once recorded (also after Temporal forgot its finished workflow), Temporal from its start
   * (asked only when `askTemporal`, see the POST route). Undefined when there is none; 422 when the
   * key's order is another request's.
   */
  async function placedBefore(orderId: string, keyedReq: KeyedRequestInfo, order: CreateOrderBody, res: Response, askTemporal: boolean): Promise<AcceptedOrder | undefined> {
    const recorded = await readOrderRow(pool, orderId);
    if (recorded) {
      // The id comes from (client, key), so another client's row here can only be an order of before the
      // authenticated client ids (X-Client-Id): never answer with it.
      if (recorded.clientId !== keyedReq.clientId || !sameOrder(recorded, order)) throw keyReused();
      return { orderId, totalCents: recorded.totalCents, currency: recorded.currency, correlationId: recorded.correlationId };
    }
    if (!askTemporal) return undefined;
    let memo: Record<string, unknown> | undefined;
    try {
      memo = (await withDeadline(() => temporal.workflow.getHandle(orderWorkflowId(orderId)).describe())).memo;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      logger.error({ err, orderId }, 'could not learn whether this keyed order was started before');
      throw outcomeUnknown(res, 'start', orderId, true);
    }
    const first = memo?.[KEYED_START_MEMO] as KeyedStartMemo | undefined;
    if (first?.requestHash !== keyedReq.requestHash) throw keyReused();
    return { orderId, totalCents: first.totalCents, currency: first.currency, correlationId: first.correlationId };
  }

  const ownerOf = orderOwnerLookup(temporal, logger, temporalCallTimeoutMs);

  /** The order's lines priced from inventory's catalog (never from the client), in the order's currency. */
  async function priced(order: CreateOrderBody): Promise<PricedLine[]> {
    let products: (Product | null)[];
    try {
      products = await Promise.all(order.items.map((i) => inventory.getProduct(i.sku)));
    } catch (err) {
      if (!(err instanceof TransientPeerError)) throw err;
      logger.error({ err }, 'could not read the catalog');
      throw problem(503, 'catalog-unavailable', 'Catalog unavailable',
        'The product catalog could not be read just now; this request reserved and charged nothing. Retry later.');
    }
    const unknown = order.items.filter((_, idx) => !products[idx]).map((i) => i.sku);
    if (unknown.length > 0) {
      throw problem(422, 'unknown-sku', 'Unknown product', `These SKUs are not in the catalog: ${unknown.join(', ')}.`, { skus: unknown });
    }
    const foreign = order.items.map((i, idx) => ({ sku: i.sku, currency: products[idx]!.currency ?? null })).filter((p) => p.currency !== order.currency);
    if (foreign.length > 0) {
      throw problem(422, 'currency-mismatch', 'Products priced in another currency',
        `The order is in ${order.currency}, but ${foreign.map((p) => `${p.sku} is priced in ${p.currency ?? 'an unknown currency'}`).join(', ')}. ` +
        'An order is charged in the currency of its products: order them in that currency (one order per currency).',
        { currency: order.currency, products: foreign });
    }
    return order.items.map((i, idx) => ({ sku: i.sku, quantity: i.quantity, unitPriceCents: products[idx]!.priceCents }));
  }

  /*
   * Why a keyed POST asks Temporal (DescribeWorkflowExecution) before its start only when the key
   * was held before (KeyedRequestInfo.heldBefore), and why that loses nothing:
   * - The order's workflow id comes from (client, key). Its start uses reuse policy
   *   REJECT_DUPLICATE and conflict policy FAIL (orderWorkflowStartOptions): while Temporal knows
   *   a workflow of that id, running or closed, the start fails with "already started", and that
   *   goes to placedBefore (with Temporal asked) anyway. So skipping the question never starts a
   *   second order; the question up front only lets a retry answer without pricing again.
   * - An order recorded long ago (its workflow forgotten by Temporal, its key row expired) is
   *   found by the database check, which every keyed POST still makes first.
   * - What runs between the skipped question and the start must not harm an order placed before:
   *   pricing reads only; storing the secrets is insert-only (common/order-vault.ts), so a request
   *   with another body never changes the email or card of the order placed under its key. It
   *   finds their row different and is refused with 422 before it starts anything.
   * - A key never held before (the claim inserted its row) cannot have an earlier attempt: the
   *   key's rows are deleted only when expired (at least IDEMPOTENCY_KEY_TTL after that attempt's
   *   claim; its order is recorded by then, or the start or the vault finds it as above). A
   *   released key keeps its row (release ends the lease, api/idempotency.ts), so a retry after a
   *   5xx, a lost answer or a crash takes it over, and asks Temporal first, as before.
   */
  router.post('/orders', keyed, async (req, res) => {
    const body = createOrderBody.safeParse(req.body);
    if (!body.success) throw validationProblem(body.error);
    const order = body.data;
    const repeated = duplicateSkus(order.items);
    if (repeated.length > 0) {
      throw problem(422, 'duplicate-sku', 'SKU listed more than once',
        `Each SKU may appear once per order; add up the quantities of ${repeated.join(', ')} into one line.`, { skus: repeated });
    }
    const { clientId } = authenticatedClient(res);
    // With a key, the order id comes from (client, key): every attempt of this request names the same order.
    const keyedReq = keyedRequestOf(res);
    const orderId = keyedReq ? orderIdFor(keyedReq.clientId, keyedReq.key) : randomUUID();
    bindOrderId(orderId);
    // Temporal is asked before the start only when an earlier request held this key (see above the route).
    const earlier = keyedReq && await placedBefore(orderId, keyedReq, order, res, keyedReq.heldBefore === true);
    if (earlier) return void sendAccepted(res, earlier);

    const lines = await priced(order);
    const totalCents = totalOf(lines);
    if (totalCents > MAX_ORDER_TOTAL_CENTS) {
      throw problem(422, 'order-total-too-large', 'Order total too large',
        `The order comes to ${totalCents} ${order.currency} minor units; one order may come to at most ${MAX_ORDER_TOTAL_CENTS}. Split it into smaller orders.`,
        { totalCents, maxTotalCents: MAX_ORDER_TOTAL_CENTS });
    }
    if (totalCents < 1) {
      throw problem(422, 'order-total-zero', 'Nothing to pay',
        'The order comes to 0, and a payment is at least 1 minor unit: it cannot be placed on its own.', { totalCents });
    }

    const correlationId = correlationIdOf(res);
    // The email and the card token wait in the order vault; the workflow and its activities see ids only.
    const secrets: OrderSecrets = { orderId, clientId, customerId: order.customerId, customerEmail: order.customerEmail, paymentToken: order.payment.token };
    const stored = await storeOrderSecrets(pool, secrets);
    // Another request's secrets under this order id: an earlier request with this key and another body.
    if (stored === 'different') {
      if (keyedReq) throw keyReused();
      throw new Error(`order ${orderId} (a random id) already has secrets in the order vault; not placing it`);
    }
    const input: OrderWorkflowInput = {
      orderId, clientId, customerId: order.customerId, currency: order.currency, lines, totalCents, correlationId, paymentConfirmationTimeoutMs,
    };
    const accepted: AcceptedOrder = { orderId, totalCents, currency: order.currency, correlationId };
    const memo = {
      [CLIENT_MEMO]: clientId,
      ...(keyedReq && { [KEYED_START_MEMO]: { requestHash: keyedReq.requestHash, totalCents, currency: order.currency, correlationId } satisfies KeyedStartMemo }),
    };
    try {
      await withDeadline(() => temporal.workflow.start(ORDER_WORKFLOW_TYPE, { ...orderWorkflowStartOptions(input, taskQueue), memo }));
    } catch (err) {
      // "Already started" for a keyed order: an earlier attempt started it a moment ago (or runs still).
      if (keyedReq && err instanceof WorkflowExecutionAlreadyStartedError) {
        let first: AcceptedOrder | undefined;
        try {
          first = await placedBefore(orderId, keyedReq, order, res, true);
        } catch (refused) {
          // The secrets this request stored (the earlier order's were gone: ended, swept or erased) are not that order's.
          if (stored === 'stored') await discardStoredSecrets(pool, secrets).catch((discardErr: unknown) => logger.error({ err: discardErr, orderId }, 'could not discard the secrets of a refused request; the vault sweep removes them'));
          throw refused;
        }
        if (first) return void sendAccepted(res, first);
      }
      // A timeout or a broken connection does not say the start did not happen.
      logger.error({ err, orderId }, 'order workflow start not confirmed; its outcome is unknown');
      throw outcomeUnknown(res, 'start', orderId, keyedReq !== undefined);
    }
    sendAccepted(res, accepted);
  });

  router.get('/orders', async (req, res) => {
    const q = listQuery.safeParse(req.query);
    if (!q.success) throw validationProblem(q.error, 'query');
    const after = q.data.cursor ? cursorCodec.decode(q.data.cursor) : undefined;
    // A shop lists its own orders; an operator every client's, or one client's.
    const self = authenticatedClient(res).clientId;
    if (!isOperator(res) && q.data.clientId !== undefined && q.data.clientId !== self) {
      throw problem(403, 'forbidden', 'Not allowed for this API key', 'A shop lists its own orders only; leave clientId out.');
    }
    const clientId = isOperator(res) ? q.data.clientId : self;
    const rows = await db.order.findMany({
      where: {
        ...(clientId ? { clientId } : {}),
        ...(q.data.status ? { status: q.data.status } : {}),
        ...(q.data.customerId ? { customerId: q.data.customerId } : {}),
        ...(after ? { OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }] } : {}),
      },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: q.data.limit + 1,
    });
    const page = rows.slice(0, q.data.limit);
    const last = page[page.length - 1];
    res.json({
      items: page.map((o) => ({
        orderId: o.id, status: o.status, clientId: o.clientId, customerId: o.customerId, currency: o.currency, totalCents: o.totalCents,
        ...(o.cancelReasonCode ? { reasonCode: o.cancelReasonCode } : {}), createdAt: o.createdAt, updatedAt: o.updatedAt,
      })),
      nextCursor: rows.length > q.data.limit && last ? cursorCodec.encode(last.createdAt, last.id) : null,
    });
  });

  router.get('/orders/:orderId', async (req, res) => {
    const orderId = parseOrderId(req);
    bindOrderId(orderId);
    const row = await readOrderRow(pool, orderId);
    if (!isOperator(res) && await ownerOf(orderId, row, res) !== authenticatedClient(res).clientId) throw orderNotFound(orderId);
    const terminal = row ? terminalStatuses.has(row.status) : false;
    // While the saga runs, its live state is the truth; afterwards the database is.
    const live = terminal ? undefined
      : await withDeadline(() => temporal.workflow.getHandle(orderWorkflowId(orderId)).query(orderStatusQuery)).catch(() => undefined);
    if (!row && !live) throw orderNotFound(orderId);
    res.json({
      orderId,
      status: live?.status ?? row!.status,
      ...(row ? {
        clientId: row.clientId,
        customerId: row.customerId,
        currency: row.currency,
        totalCents: row.totalCents,
        correlationId: row.correlationId,
        items: row.lines.map((l) => ({ sku: l.sku, quantity: l.quantity, unitPriceCents: l.unitPriceCents })),
        createdAt: row.createdAt,
        updatedAt: row.updatedAt,
      } : { items: [], totalCents: null }),
      ...(row?.cancelReasonCode ? { reasonCode: row.cancelReasonCode, reason: row.cancelReason } : {}),
      ...(row?.status === 'COMPENSATION_FAILED' ? { pendingUndos: row.pendingUndos } : {}),
      terminal,
      ...(live ? {
        saga: {
          currentStep: live.currentStep, completedSteps: live.completedSteps, pendingUndos: live.pendingUndos ?? [],
          ...(live.paymentConfirmationDeadline ? { paymentConfirmationDeadline: live.paymentConfirmationDeadline } : {}),
          ...(live.cancelRequested ? { cancelRequested: true } : {}),
        },
      } : {}),
    });
  });

  /**
   * The update's result if the server sent it together with the acceptance, else undefined, without
   * waiting: a rejected update (the validator refused) comes back completed, and result() throws
   * its WorkflowUpdateFailedError at once; an accepted one has no outcome yet, and result() would
   * ask the server and wait for it (for every undo). A deadline already past makes that question
   * fail at once instead.
   */
  async function resultIfKnown<T>(update: WorkflowUpdateHandle<T>): Promise<T | undefined> {
    try {
      return await temporal.withDeadline(Date.now() - 1, () => update.result());
    } catch (err) {
      if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return undefined;
      throw err;
    }
  }

  /** What a recorded order says of a customer's cancel: CANCELLED by the customer, or nothing yet. */
  function customerCancelled(row: { status: OrderStatus; cancelReasonCode: string | null } | null) {
    return row?.status === 'CANCELLED' && row.cancelReasonCode === 'CUSTOMER_CANCELLED'
      ? { status: 'CANCELLED' as const, reasonCode: 'CUSTOMER_CANCELLED' as const } : undefined;
  }

  /** 202 once the cancel is accepted; the undos run on, and the order's Location shows when it is CANCELLED. */
  function sendCancelAccepted(res: Response, orderId: string, done?: Pick<CancelOrderResult, 'status' | 'reasonCode'> & { refunded?: boolean }): void {
    res.status(202).location(`/orders/${orderId}`).json({ orderId, cancelRequested: true, ...done });
  }

  router.post('/orders/:orderId/cancel', keyed, async (req, res) => {
    const orderId = parseOrderId(req);
    const keyedReq = keyedRequestOf(res);
    // Only the client that placed an order cancels it (an operator cancels the workflow: OPERATOR_CANCELLED).
    const owner = await ownerOf(orderId, await db.order.findUnique({ where: { id: orderId }, select: { clientId: true } }), res);
    if (owner !== undefined && owner !== authenticatedClient(res).clientId) {
      if (!isOperator(res)) throw orderNotFound(orderId);
      throw problem(403, 'forbidden', 'Not your order to cancel',
        'Only the client that placed an order cancels it through the API. An operator cancels the order\'s workflow (Web UI or temporal workflow cancel), which records OPERATOR_CANCELLED.');
    }
    const refuse = (status: OrderStatus | string, why: string) =>
      problem(409, 'cancel-refused', 'Order can no longer be cancelled', why, { orderId, orderStatus: status });
    let unconfirmed = false;
    let accepted: { done?: CancelOrderResult } | undefined;
    try {
      const update = await withDeadline(() => temporal.workflow.getHandle(orderWorkflowId(orderId)).startUpdate(cancelOrderUpdate, {
        waitForStage: WorkflowUpdateStage.ACCEPTED,
        // A retry with the same key joins the first request's update instead of sending another.
        updateId: keyedReq ? cancelUpdateIdFor(keyedReq.clientId, keyedReq.key) : randomUUID(),
      }));
      accepted = { done: await resultIfKnown(update) };
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) {
        const current = await db.order.findUnique({ where: { id: orderId }, select: { status: true } });
        // The validator's reason is ours to show (common/order/status.ts); anything else is not.
        const reason = err.cause instanceof ApplicationFailure && CANCEL_REFUSED_TYPES.has(err.cause.type ?? '') ? err.cause.message : 'The order can no longer be undone.';
        throw refuse(current?.status ?? 'UNKNOWN', reason);
      }
      // Not found: the workflow has finished (or never existed). Anything else: no answer in time.
      unconfirmed = !(err instanceof WorkflowNotFoundError);
      if (unconfirmed) logger.warn({ err, orderId }, 'cancel not confirmed by the workflow engine; answering from the database');
    }
    if (accepted) {
      const { done } = accepted;
      if (done) return void sendCancelAccepted(res, orderId, { status: done.status, reasonCode: done.reasonCode, refunded: done.refunded });
      // Accepted (or joined an update accepted before): the order may be recorded CANCELLED already.
      const recorded = await db.order.findUnique({ where: { id: orderId }, select: { status: true, cancelReasonCode: true } }).catch(() => null);
      return void sendCancelAccepted(res, orderId, customerCancelled(recorded));
    }
    const row = await db.order.findUnique({ where: { id: orderId } });
    const cancelled = customerCancelled(row);
    if (cancelled) return void sendCancelAccepted(res, orderId, cancelled);
    if (row && terminalStatuses.has(row.status)) {
      throw refuse(row.status, `Order is ${row.status}${row.cancelReasonCode ? ` (${row.cancelReasonCode})` : ''} and can no longer be cancelled.`);
    }
    if (!row && !unconfirmed) throw orderNotFound(orderId);
    throw outcomeUnknown(res, 'cancel', orderId, keyedReq !== undefined);
  });

  return router;
}
