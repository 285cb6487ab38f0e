import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Pool } from 'pg';
import { closeServer } from '../../common/http';
import { checkWebhookSignature, signWebhook, verifyWebhookSignature } from '../../common/webhook-signature';
import { startPaymentService, type RunningPaymentService } from '../../services/payment/server';
import { createTestDatabase, type TestDatabase } from '../harness/database';
import { describeHealthChecks } from './health-checks';
import { call, newKey, problemType, TEST_CALLERS, testLogger, waitFor } from './http-helpers';
import { cleanUp } from '../harness/clean-up';

const WEBHOOK_SECRET = 'test-webhook-secret';

interface ReceivedWebhook {
  rawBody: string;
  signature: string | undefined;
  event: { id: string; type: string; orderId: string; paymentId: string; occurredAt: string };
}

/** Stands in for the order API's webhook endpoint; can be told to fail the first attempts. */
class WebhookReceiver {
  received: ReceivedWebhook[] = [];
  failuresToSimulate = 0;
  private server?: ReturnType<express.Express['listen']>;
  url = '';

  async start() {
    const app = express();
    app.post('/webhooks/payment', express.text({ type: 'application/json' }), (req, res) => {
      if (this.failuresToSimulate > 0) {
        this.failuresToSimulate -= 1;
        return void res.status(500).end();
      }
      this.received.push({ rawBody: req.body as string, signature: req.get('Payment-Signature'), event: JSON.parse(req.body as string) });
      res.status(204).end();
    });
    await new Promise<void>((resolve) => { this.server = app.listen(0, '127.0.0.1', () => resolve()); });
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/webhooks/payment`;
  }

  forOrder(orderId: string) {
    return this.received.filter((w) => w.event.orderId === orderId);
  }

  async stop() {
    if (this.server) await closeServer(this.server);
  }
}

let db: TestDatabase;
let service: RunningPaymentService;
let pool: Pool;
let url: string;
const receiver = new WebhookReceiver();

beforeAll(async () => {
  db = await createTestDatabase('payment');
  await receiver.start();
  service = await startPaymentService({
    databaseUrl: db.url, port: 0, logger: testLogger('payment-test'),
    webhookUrl: receiver.url, webhookSecret: WEBHOOK_SECRET, webhookRetry: { attempts: 4, baseDelayMs: 20 }, callers: TEST_CALLERS, testMode: true,
  });
  url = service.url;
  pool = new Pool({ connectionString: db.url });
});

afterAll(() => cleanUp(
  () => service?.stop(),
  () => receiver.stop(),
  () => pool?.end(),
  () => db?.drop(),
));

function authorize(orderId: string, token = 'tok_visa', amountCents = 5_000, key = newKey(), currency = 'EUR') {
  return call(url, 'POST', '/payments/authorize', { key, body: { orderId, amountCents, currency, token } });
}
const capture = (paymentId: string, body?: { amountCents?: number }, key = newKey()) => call(url, 'POST', `/payments/${paymentId}/capture`, { key, body });
const voidPayment = (paymentId: string, key = newKey()) => call(url, 'POST', `/payments/${paymentId}/void`, { key });
const refund = (paymentId: string, body?: { amountCents?: number }, key = newKey()) => call(url, 'POST', `/payments/${paymentId}/refund`, { key, body });
const ofOrder = async (orderId: string) => (await call(url, 'GET', `/payments?orderId=${orderId}`)).body;
const threeDSecure = (orderId: string, outcome: 'complete' | 'fail') => call(url, 'POST', `/test/3ds/${orderId}`, { body: { outcome } });

async function authorized(amountCents = 5_000) {
  const orderId = randomUUID();
  const res = await authorize(orderId, 'tok_visa', amountCents);
  expect(res.status).toBe(201);
  return { orderId, paymentId: res.body.paymentId as string };
}

async function count(sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${sql}`, params);
  return Number(rows[0]!.n);
}

describeHealthChecks(() => url);

describe('authorize', () => {
  it('approves tok_visa with the contract shape and records the operation', async () => {
    const orderId = randomUUID();
    const res = await authorize(orderId, 'tok_visa', 4_200, newKey(), 'USD');
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ paymentId: expect.any(String), orderId, status: 'AUTHORIZED', amountCents: 4_200, currency: 'USD', card: { label: 'visa' } });

    expect((await call(url, 'GET', `/payments/${res.body.paymentId}`)).body).toEqual(res.body);
    const view = await ofOrder(orderId);
    expect(view).toEqual({
      orderId,
      payment: res.body,
      operations: [{ id: expect.any(String), paymentId: res.body.paymentId, kind: 'authorize', amountCents: 4_200, currency: 'USD', outcome: 'approved', declineCode: null, createdAt: expect.any(String) }],
      balance: { authorizedCents: 4_200, capturedCents: 0, voidedCents: 0, refundedCents: 0, heldCents: 4_200, netCapturedCents: 0 },
    });
  });

  it('answers an order without payments with payment null', async () => {
    const orderId = randomUUID();
    expect(await ofOrder(orderId)).toEqual({ orderId, payment: null, operations: [], balance: { authorizedCents: 0, capturedCents: 0, voidedCents: 0, refundedCents: 0, heldCents: 0, netCapturedCents: 0 } });
    expect((await call(url, 'GET', '/payments?orderId=nope')).status).toBe(400);
    expect((await call(url, 'GET', `/payments/${randomUUID()}`)).body.type).toBe(problemType('payment-not-found'));
  });

  it('declines tok_chargeDeclined with 402, records it, and replays the decline', async () => {
    const orderId = randomUUID();
    const key = newKey();
    const declined = await authorize(orderId, 'tok_chargeDeclined', 5_000, key);
    expect(declined.status).toBe(402);
    expect(declined.contentType).toContain('application/problem+json');
    expect(declined.body).toMatchObject({ type: problemType('card-declined'), status: 402, declineCode: 'card_declined', orderId, paymentId: expect.any(String) });

    const replay = await authorize(orderId, 'tok_chargeDeclined', 5_000, key);
    expect(replay).toEqual({ ...declined, replayed: true });

    const view = await ofOrder(orderId);
    expect(view.payment).toMatchObject({ status: 'DECLINED', declineCode: 'card_declined', authorizedCents: 0 });
    expect(view.operations).toEqual([expect.objectContaining({ kind: 'authorize', outcome: 'declined', declineCode: 'card_declined' })]);
  });

  it('declines an unknown token as invalid_token', async () => {
    const res = await authorize(randomUUID(), 'tok_madeUp');
    expect(res.status).toBe(402);
    expect(res.body).toMatchObject({ type: problemType('invalid-token'), declineCode: 'invalid_token' });
  });

  it('lets an order try another card after a decline, but holds one live payment per order', async () => {
    const orderId = randomUUID();
    expect((await authorize(orderId, 'tok_chargeDeclined')).status).toBe(402);
    const approved = await authorize(orderId, 'tok_visa');
    expect(approved.status).toBe(201);

    const second = await authorize(orderId, 'tok_visa');
    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({ type: problemType('payment-exists'), paymentId: approved.body.paymentId, paymentStatus: 'AUTHORIZED' });

    const view = await ofOrder(orderId);
    expect(view.payment.paymentId).toBe(approved.body.paymentId);
    expect(view.operations.map((o: { outcome: string }) => o.outcome)).toEqual(['declined', 'approved', 'failed']);
    expect(view.balance).toMatchObject({ authorizedCents: 5_000, heldCents: 5_000 });
  });

  it('never stores the card token in clear', async () => {
    const orderId = randomUUID();
    await authorize(orderId, 'tok_visa');
    await authorize(randomUUID(), 'tok_secretLooking_123');
    for (const table of ['payments', 'operations', 'idempotency_keys', 'webhook_events']) {
      const { rows } = await pool.query(`SELECT t::text AS row FROM payment.${table} t`);
      for (const { row } of rows) expect(row).not.toMatch(/tok_/);
    }
  });

  it('requires an Idempotency-Key and valid input, and writes nothing otherwise', async () => {
    const orderId = randomUUID();
    const valid = { orderId, amountCents: 100, currency: 'EUR', token: 'tok_visa' };
    const noKey = await call(url, 'POST', '/payments/authorize', { body: valid });
    expect(noKey.status).toBe(400);
    expect(noKey.body.type).toBe(problemType('idempotency-key-required'));

    const key = newKey();
    for (const body of [
      { ...valid, orderId: 'x' }, { ...valid, amountCents: 0 }, { ...valid, amountCents: 10.5 }, { ...valid, amountCents: '100' },
      { ...valid, currency: 'eur' }, { ...valid, currency: 'EURO' }, { ...valid, token: 'visa' }, { ...valid, token: undefined },
      { ...valid, extra: 1 },
    ]) {
      const res = await call(url, 'POST', '/payments/authorize', { key, body });
      expect(res.status).toBe(400);
      expect(res.contentType).toContain('application/problem+json');
      expect(res.body.type).toBe(problemType('validation-error'));
    }
    expect(await count('payment.payments WHERE order_id = $1', [orderId])).toBe(0);
    expect(await count('payment.operations WHERE order_id = $1', [orderId])).toBe(0);
    expect(await count('payment.idempotency_keys WHERE key = $1', [key])).toBe(0);
  });

  it('replays a repeated key and answers 422 when the key is reused for another request', async () => {
    const orderId = randomUUID();
    const key = newKey();
    const first = await authorize(orderId, 'tok_visa', 1_000, key);
    expect(await authorize(orderId, 'tok_visa', 1_000, key)).toEqual({ ...first, replayed: true });
    const reused = await authorize(orderId, 'tok_visa', 2_000, key);
    expect(reused.status).toBe(422);
    expect(reused.body.type).toBe(problemType('idempotency-key-reused'));
    expect(await count('payment.operations WHERE order_id = $1', [orderId])).toBe(1);
  });

  it('has exactly one effect for 10 concurrent authorizations with one key', async () => {
    const orderId = randomUUID();
    const key = newKey();
    const answers = await Promise.all(Array.from({ length: 10 }, () => authorize(orderId, 'tok_visa', 7_000, key)));
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(201));
    expect(answers.filter((a) => !a.replayed)).toHaveLength(1);
    expect(new Set(answers.map((a) => a.body.paymentId)).size).toBe(1);
    expect(await count('payment.operations WHERE order_id = $1', [orderId])).toBe(1);
    expect(await count('payment.payments WHERE order_id = $1', [orderId])).toBe(1);
  });

  it('lets one of several concurrent authorizations for one order win, whatever their keys', async () => {
    const orderId = randomUUID();
    const answers = await Promise.all(Array.from({ length: 6 }, () => authorize(orderId)));
    expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
    expect(answers.filter((a) => a.body.type === problemType('payment-exists'))).toHaveLength(5);
    expect(await count('payment.payments WHERE order_id = $1', [orderId])).toBe(1);
  });
});

describe('capture, void, refund', () => {
  it('captures the full amount; capturing again is a no-op', async () => {
    const { orderId, paymentId } = await authorized(5_000);
    const captured = await capture(paymentId);
    expect(captured).toMatchObject({ status: 200, body: { status: 'CAPTURED', capturedCents: 5_000 } });
    expect(await capture(paymentId)).toMatchObject({ status: 200, replayed: false, body: { status: 'CAPTURED', capturedCents: 5_000 } });
    const view = await ofOrder(orderId);
    expect(view.balance).toEqual({ authorizedCents: 5_000, capturedCents: 5_000, voidedCents: 0, refundedCents: 0, heldCents: 0, netCapturedCents: 5_000 });
    expect(view.operations.map((o: { kind: string }) => o.kind)).toEqual(['authorize', 'capture']);
  });

  it('captures part of the authorization and releases the rest', async () => {
    const { orderId, paymentId } = await authorized(5_000);
    const tooMuch = await capture(paymentId, { amountCents: 5_001 });
    expect(tooMuch.status).toBe(409);
    expect(tooMuch.body).toMatchObject({ type: problemType('capture-exceeds-authorization'), authorizedCents: 5_000 });
    expect(await capture(paymentId, { amountCents: 3_000 })).toMatchObject({ status: 200, body: { status: 'CAPTURED', capturedCents: 3_000, voidedCents: 2_000 } });
    expect((await ofOrder(orderId)).balance).toMatchObject({ authorizedCents: 5_000, capturedCents: 3_000, voidedCents: 2_000, heldCents: 0 });
  });

  it('voids an authorization; voiding again is a no-op; capture is then refused', async () => {
    const { orderId, paymentId } = await authorized(2_500);
    expect(await voidPayment(paymentId)).toMatchObject({ status: 200, body: { status: 'VOIDED', voidedCents: 2_500 } });
    expect(await voidPayment(paymentId)).toMatchObject({ status: 200, body: { status: 'VOIDED' } });
    const late = await capture(paymentId);
    expect(late.status).toBe(409);
    expect(late.body).toMatchObject({ type: problemType('payment-not-capturable'), paymentStatus: 'VOIDED' });
    expect((await ofOrder(orderId)).balance).toEqual({ authorizedCents: 2_500, capturedCents: 0, voidedCents: 2_500, refundedCents: 0, heldCents: 0, netCapturedCents: 0 });
  });

  it('refuses to void a captured payment (refund instead) or a declined one', async () => {
    const { paymentId } = await authorized();
    await capture(paymentId);
    const res = await voidPayment(paymentId);
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ type: problemType('payment-captured'), paymentStatus: 'CAPTURED' });
    expect(res.body.detail).toMatch(/refund/i);

    const declined = await authorize(randomUUID(), 'tok_chargeDeclined');
    const voidDeclined = await voidPayment(declined.body.paymentId);
    expect(voidDeclined.status).toBe(409);
    expect(voidDeclined.body.type).toBe(problemType('payment-not-voidable'));
  });

  it('refunds partially then fully, never more than captured', async () => {
    const { orderId, paymentId } = await authorized(10_000);
    expect((await refund(paymentId)).body).toMatchObject({ type: problemType('payment-not-refundable'), paymentStatus: 'AUTHORIZED' });
    await capture(paymentId);
    expect(await refund(paymentId, { amountCents: 4_000 })).toMatchObject({ status: 200, body: { status: 'PARTIALLY_REFUNDED', refundedCents: 4_000 } });
    const tooMuch = await refund(paymentId, { amountCents: 6_001 });
    expect(tooMuch.status).toBe(409);
    expect(tooMuch.body).toMatchObject({ type: problemType('refund-exceeds-capture'), remainingCents: 6_000 });
    expect(await refund(paymentId)).toMatchObject({ status: 200, body: { status: 'REFUNDED', refundedCents: 10_000 } });
    expect(await refund(paymentId)).toMatchObject({ status: 200, body: { status: 'REFUNDED', refundedCents: 10_000 } });
    expect((await refund(paymentId, { amountCents: 1 })).body.type).toBe(problemType('refund-exceeds-capture'));

    const view = await ofOrder(orderId);
    expect(view.balance).toEqual({ authorizedCents: 10_000, capturedCents: 10_000, voidedCents: 0, refundedCents: 10_000, heldCents: 0, netCapturedCents: 0 });
    const approvedRefunds = view.operations.filter((o: { kind: string; outcome: string }) => o.kind === 'refund' && o.outcome === 'approved');
    expect(approvedRefunds.map((o: { amountCents: number }) => o.amountCents)).toEqual([4_000, 6_000]);
  });

  it('refunds once for concurrent duplicates of one key', async () => {
    const { paymentId } = await authorized(3_000);
    await capture(paymentId);
    const key = newKey();
    const answers = await Promise.all(Array.from({ length: 8 }, () => refund(paymentId, { amountCents: 1_000 }, key)));
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(200));
    expect((await call(url, 'GET', `/payments/${paymentId}`)).body).toMatchObject({ status: 'PARTIALLY_REFUNDED', refundedCents: 1_000 });
  });

  it('validates amounts and payment ids, and answers 404 for an unknown payment', async () => {
    const { paymentId } = await authorized();
    expect((await capture(paymentId, { amountCents: 0 })).status).toBe(400);
    expect((await capture(paymentId, { amount: 5 } as never)).status).toBe(400);
    expect((await refund('not-a-uuid')).status).toBe(400);
    expect((await call(url, 'POST', `/payments/${paymentId}/capture`)).status).toBe(400);
    const unknown = await capture(randomUUID());
    expect(unknown.status).toBe(404);
    expect(unknown.body.type).toBe(problemType('payment-not-found'));
    expect((await call(url, 'GET', `/payments/${paymentId}`)).body.status).toBe('AUTHORIZED');
  });
});

describe('order-level undos (the saga\'s void and refund, by order id)', () => {
  const voidOrder = (orderId: string, key = newKey()) => call(url, 'POST', `/orders/${orderId}/payment/void`, { key, body: {} });
  const refundOrder = (orderId: string, key = newKey()) => call(url, 'POST', `/orders/${orderId}/payment/refund`, { key, body: {} });
  const ops = async (orderId: string) => (await ofOrder(orderId)).operations.map((o: { kind: string; outcome: string }) => `${o.kind}:${o.outcome}`);

  it('fences an order without a payment: a late authorization is refused with its own answer and recorded', async () => {
    const orderId = randomUUID();
    const key = newKey();
    const undone = await voidOrder(orderId, key);
    expect(undone).toMatchObject({ status: 200, body: { orderId, undo: 'void', result: 'nothing', payment: null, fence: { fencedBy: 'void', fencedAt: expect.any(String) } } });
    expect(await voidOrder(orderId, key)).toEqual({ ...undone, replayed: true });

    const late = await authorize(orderId);
    expect(late.status).toBe(409);
    expect(late.contentType).toContain('application/problem+json');
    expect(late.body).toMatchObject({ type: problemType('order-closed'), orderId, fencedBy: 'void' });
    // A decline card, a 3-D Secure card: all refused the same way, none creates a payment.
    expect((await authorize(orderId, 'tok_chargeDeclined')).body.type).toBe(problemType('order-closed'));
    expect((await authorize(orderId, 'tok_threeDSecure')).body.type).toBe(problemType('order-closed'));
    const view = await ofOrder(orderId);
    expect(view.payment).toBeNull();
    expect(view.operations).toEqual(Array(3).fill(expect.objectContaining({ kind: 'authorize', outcome: 'failed', declineCode: 'order_closed', paymentId: null })));
    // Another undo with another key changes nothing; the first fence is kept.
    expect((await refundOrder(orderId)).body).toMatchObject({ result: 'nothing', fence: { fencedBy: 'void', fencedAt: undone.body.fence.fencedAt } });
  });

  it('voids an authorized payment and a payment waiting for the customer; neither can be captured or confirmed later', async () => {
    const { orderId, paymentId } = await authorized(2_000);
    expect(await voidOrder(orderId)).toMatchObject({ status: 200, body: { result: 'voided', payment: { paymentId, status: 'VOIDED', voidedCents: 2_000 } } });
    expect(await voidOrder(orderId)).toMatchObject({ status: 200, body: { result: 'voided', payment: { status: 'VOIDED' } } });
    expect((await capture(paymentId)).status).toBe(409);
    expect((await ofOrder(orderId)).balance).toMatchObject({ authorizedCents: 2_000, voidedCents: 2_000, capturedCents: 0, heldCents: 0 });

    const waiting = randomUUID();
    expect((await authorize(waiting, 'tok_threeDSecure')).status).toBe(202);
    expect((await voidOrder(waiting)).body).toMatchObject({ result: 'voided', payment: { status: 'VOIDED' } });
    expect((await threeDSecure(waiting, 'complete')).status).toBe(409);
    expect((await ofOrder(waiting)).balance).toMatchObject({ authorizedCents: 0, heldCents: 0 });
  });

  it('refund undo: fences the order so a late capture is refused, leaving the hold for the void undo', async () => {
    const { orderId, paymentId } = await authorized(3_000);
    expect((await refundOrder(orderId)).body).toMatchObject({ result: 'nothing', payment: { status: 'AUTHORIZED' }, fence: { fencedBy: 'refund' } });
    const late = await capture(paymentId);
    expect(late.status).toBe(409);
    expect(late.body).toMatchObject({ type: problemType('order-closed'), orderId, paymentId, fencedBy: 'refund' });
    expect((await voidOrder(orderId)).body).toMatchObject({ result: 'voided', payment: { status: 'VOIDED' } });
    expect(await ops(orderId)).toEqual(['authorize:approved', 'capture:failed', 'void:approved']);
    expect((await ofOrder(orderId)).balance).toMatchObject({ capturedCents: 0, heldCents: 0, netCapturedCents: 0 });
  });

  it('refunds a captured payment, from either undo, once', async () => {
    const { orderId, paymentId } = await authorized(4_000);
    await capture(paymentId);
    expect((await voidOrder(orderId)).body).toMatchObject({ result: 'refunded', payment: { status: 'REFUNDED', refundedCents: 4_000 } });
    expect((await refundOrder(orderId)).body).toMatchObject({ result: 'refunded', payment: { status: 'REFUNDED' } });
    expect((await voidOrder(orderId)).body).toMatchObject({ result: 'refunded' });
    expect(await ops(orderId)).toEqual(['authorize:approved', 'capture:approved', 'refund:approved']);

    const partly = await authorized(5_000);
    await capture(partly.paymentId);
    await refund(partly.paymentId, { amountCents: 1_000 });
    expect((await refundOrder(partly.orderId)).body).toMatchObject({ result: 'refunded', payment: { status: 'REFUNDED', refundedCents: 5_000 } });
    expect((await ofOrder(partly.orderId)).balance).toMatchObject({ netCapturedCents: 0 });
  });

  it('has nothing to undo for a declined payment', async () => {
    const orderId = randomUUID();
    const declined = await authorize(orderId, 'tok_chargeDeclined');
    expect((await voidOrder(orderId)).body).toMatchObject({ result: 'nothing', payment: { paymentId: declined.body.paymentId, status: 'DECLINED' } });
    expect(await ops(orderId)).toEqual(['authorize:declined']);
  });

  it('never leaves a hold when authorizations race the void undo', async () => {
    const orders = Array.from({ length: 8 }, () => randomUUID());
    await Promise.all(orders.map((orderId) => Promise.all([authorize(orderId, 'tok_visa', 1_000), voidOrder(orderId)])));
    for (const orderId of orders) {
      const view = await ofOrder(orderId);
      expect(view.balance).toMatchObject({ heldCents: 0, netCapturedCents: 0 });
      // Either the void came first (the authorization was refused) or second (it voided the hold).
      expect(view.payment?.status ?? 'none').toMatch(/^(none|VOIDED)$/);
    }
  });

  it('requires a key, a UUID and no body fields', async () => {
    const orderId = randomUUID();
    expect((await call(url, 'POST', `/orders/${orderId}/payment/void`, { body: {} })).body.type).toBe(problemType('idempotency-key-required'));
    expect((await call(url, 'POST', '/orders/nope/payment/void', { key: newKey(), body: {} })).status).toBe(400);
    expect((await call(url, 'POST', `/orders/${orderId}/payment/refund`, { key: newKey(), body: { amountCents: 5 } })).status).toBe(400);
    expect(await count('payment.order_fences WHERE order_id = $1', [orderId])).toBe(0);
  });
});

describe('3-D Secure', () => {
  it('waits for the customer, authorizes on completion, and sends a signed webhook until it is accepted', async () => {
    const orderId = randomUUID();
    const pending = await authorize(orderId, 'tok_threeDSecure', 8_000);
    expect(pending.status).toBe(202);
    expect(pending.body).toMatchObject({ orderId, status: 'REQUIRES_CONFIRMATION', authorizedCents: 0, nextAction: { type: 'customer_confirmation' } });
    expect((await capture(pending.body.paymentId)).body.type).toBe(problemType('payment-not-capturable'));

    receiver.failuresToSimulate = 2;
    const confirmed = await threeDSecure(orderId, 'complete');
    expect(confirmed).toMatchObject({ status: 200, body: { paymentId: pending.body.paymentId, status: 'AUTHORIZED', authorizedCents: 8_000 } });

    await waitFor('the confirmation webhook', () => receiver.forOrder(orderId).length === 1);
    const [webhook] = receiver.forOrder(orderId);
    expect(webhook!.event).toEqual({ id: expect.any(String), type: 'payment.confirmed', orderId, paymentId: pending.body.paymentId, occurredAt: expect.any(String) });
    expect(verifyWebhookSignature(WEBHOOK_SECRET, webhook!.signature, webhook!.rawBody, 300)).toBe(true);
    expect(verifyWebhookSignature('another-secret', webhook!.signature, webhook!.rawBody, 300)).toBe(false);
    await waitFor('the delivery to be noted', async () =>
      (await pool.query('SELECT attempts FROM payment.webhook_events WHERE id = $1 AND delivered_at IS NOT NULL', [webhook!.event.id])).rows[0]?.attempts === 3);

    // repeating the outcome changes nothing and re-sends the same event: receivers must de-duplicate on its id
    expect((await threeDSecure(orderId, 'complete')).status).toBe(200);
    await waitFor('the re-sent webhook', () => receiver.forOrder(orderId).length === 2);
    expect(receiver.forOrder(orderId)[1]!.event.id).toBe(webhook!.event.id);
    expect((await threeDSecure(orderId, 'fail')).body.type).toBe(problemType('payment-not-awaiting-confirmation'));

    const view = await ofOrder(orderId);
    expect(view.operations.map((o: { kind: string; outcome: string }) => `${o.kind}:${o.outcome}`)).toEqual(['authorize:requires_confirmation', 'capture:failed', 'confirm:approved']);
    expect(await capture(pending.body.paymentId)).toMatchObject({ status: 200, body: { status: 'CAPTURED', capturedCents: 8_000 } });
  });

  it('declines when the customer fails authentication and says so by webhook', async () => {
    const orderId = randomUUID();
    const pending = await authorize(orderId, 'tok_threeDSecure', 3_000);
    const failed = await threeDSecure(orderId, 'fail');
    expect(failed).toMatchObject({ status: 200, body: { status: 'DECLINED', declineCode: 'authentication_failed' } });
    await waitFor('the failure webhook', () => receiver.forOrder(orderId).length === 1);
    const [webhook] = receiver.forOrder(orderId);
    expect(webhook!.event).toMatchObject({ type: 'payment.failed', orderId, paymentId: pending.body.paymentId });
    expect(verifyWebhookSignature(WEBHOOK_SECRET, webhook!.signature, webhook!.rawBody, 300)).toBe(true);

    const view = await ofOrder(orderId);
    expect(view.operations).toEqual([
      expect.objectContaining({ kind: 'authorize', outcome: 'requires_confirmation' }),
      expect.objectContaining({ kind: 'confirm', outcome: 'declined', declineCode: 'authentication_failed' }),
    ]);
    expect(view.balance).toMatchObject({ authorizedCents: 0, heldCents: 0 });
  });

  it('voids a payment still waiting for the customer; confirming it later is refused', async () => {
    const orderId = randomUUID();
    const pending = await authorize(orderId, 'tok_threeDSecure', 3_000);
    expect(await voidPayment(pending.body.paymentId)).toMatchObject({ status: 200, body: { status: 'VOIDED', voidedCents: 0 } });
    expect((await threeDSecure(orderId, 'complete')).status).toBe(409);
    expect((await ofOrder(orderId)).balance).toMatchObject({ authorizedCents: 0, capturedCents: 0, heldCents: 0 });
    expect(receiver.forOrder(orderId)).toHaveLength(0);
  });

  it('stores the event when no webhook URL is set and sends it when a service starts with one', async () => {
    const silent = await startPaymentService({ databaseUrl: db.url, port: 0, logger: testLogger('payment-test-no-webhook'), callers: TEST_CALLERS, testMode: true });
    const orderId = randomUUID();
    try {
      await call(silent.url, 'POST', '/payments/authorize', { key: newKey(), body: { orderId, amountCents: 100, currency: 'EUR', token: 'tok_threeDSecure' } });
      expect((await call(silent.url, 'POST', `/test/3ds/${orderId}`, { body: { outcome: 'complete' } })).status).toBe(200);
    } finally {
      await silent.stop();
    }
    expect(await count('payment.webhook_events WHERE order_id = $1 AND delivered_at IS NULL', [orderId])).toBe(1);

    const restarted = await startPaymentService({ databaseUrl: db.url, port: 0, logger: testLogger('payment-test-restarted'), webhookUrl: receiver.url, webhookSecret: WEBHOOK_SECRET, callers: TEST_CALLERS });
    try {
      await waitFor('the stored webhook', () => receiver.forOrder(orderId).length === 1);
      expect(receiver.forOrder(orderId)[0]!.event.type).toBe('payment.confirmed');
    } finally {
      await restarted.stop();
    }
  });

  it('answers 404 for an order without payment and 400 for a bad outcome', async () => {
    expect((await threeDSecure(randomUUID(), 'complete')).status).toBe(404);
    expect((await call(url, 'POST', `/test/3ds/${randomUUID()}`, { body: { outcome: 'maybe' } })).status).toBe(400);
  });
});

describe('webhook signatures', () => {
  const body = '{"id":"e1","type":"payment.confirmed"}';
  const now = 1_700_000_000;

  it('verifies its own signatures and refuses altered bodies, other secrets and stale timestamps', () => {
    const header = signWebhook('s3cret', now, body);
    expect(header).toMatch(/^t=1700000000,v1=[0-9a-f]{64}$/);
    expect(verifyWebhookSignature('s3cret', header, body, 300, now + 299)).toBe(true);
    expect(verifyWebhookSignature('s3cret', header, Buffer.from(body), 300, now)).toBe(true);
    expect(verifyWebhookSignature('s3cret', header, body.replace('e1', 'e2'), 300, now)).toBe(false);
    expect(verifyWebhookSignature('other', header, body, 300, now)).toBe(false);
    expect(checkWebhookSignature('s3cret', header, body, 300, now + 301)).toMatchObject({ valid: false, reason: expect.stringMatching(/tolerance/) });
  });

  it('accepts any matching v1 (secret rotation) and refuses malformed headers', () => {
    const fresh = signWebhook('new', now, body).split(',')[1];
    const old = signWebhook('old', now, body).split(',')[1];
    expect(verifyWebhookSignature('new', `t=${now},${old},${fresh}`, body, 300, now)).toBe(true);
    for (const header of [undefined, '', 'v1=abc', `t=${now}`, `t=abc,${fresh}`, `t=${now},v1=zz`, `t=${now},t=${now},${fresh}`]) {
      expect(verifyWebhookSignature('new', header, body, 300, now)).toBe(false);
    }
  });
});

describe('fault injection', () => {
  afterEach(async () => {
    await call(url, 'PUT', '/test/faults', { body: { latencyMs: 0, failNextRequests: 0 } });
  });

  it('fails the next mutating call with 503 and writes nothing; a retry with the same key then succeeds', async () => {
    await call(url, 'PUT', '/test/faults', { body: { failNextRequests: 2 } });
    const orderId = randomUUID();
    const key = newKey();
    for (let i = 0; i < 2; i++) {
      const res = await authorize(orderId, 'tok_visa', 1_000, key);
      expect(res.status).toBe(503);
      expect(res.body.type).toBe(problemType('injected-fault'));
    }
    expect(await count('payment.operations WHERE order_id = $1', [orderId])).toBe(0);
    expect((await call(url, 'GET', `/payments?orderId=${orderId}`)).status).toBe(200);
    expect((await authorize(orderId, 'tok_visa', 1_000, key)).status).toBe(201);
  });

  it('rejects invalid fault settings', async () => {
    expect((await call(url, 'PUT', '/test/faults', { body: { latencyMs: -1 } })).status).toBe(400);
  });
});
