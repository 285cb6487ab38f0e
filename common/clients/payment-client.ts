import { bearer, problemType, requestJson, unexpected, type PeerRequest } from './http-json';

export type PaymentStatus = 'REQUIRES_CONFIRMATION' | 'AUTHORIZED' | 'DECLINED' | 'CAPTURED' | 'VOIDED' | 'REFUNDED' | 'PARTIALLY_REFUNDED';

export interface Payment {
  paymentId: string;
  orderId: string;
  status: PaymentStatus;
  amountCents: number;
  currency: string;
}

export type AuthorizeOutcome =
  | { kind: 'authorized'; paymentId: string }
  | { kind: 'requires-confirmation'; paymentId: string }
  | { kind: 'declined'; declineCode: string }
  /** The order's payment was already undone (order fence): this authorization came too late. */
  | { kind: 'refused'; reason: 'order-closed' };

/** What an order-level undo did: voided the hold, refunded a capture, or found nothing to do. */
export interface OrderPaymentUndo {
  orderId: string;
  undo: 'void' | 'refund';
  result: 'voided' | 'refunded' | 'nothing';
  payment: Payment | null;
  fence: { fencedBy: 'void' | 'refund'; fencedAt: string };
}

/** A capture refused because the order's payment was already undone (order fence). */
export class PaymentOrderClosedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PaymentOrderClosedError';
  }
}

const isOrderClosed = (res: { status: number; body: unknown }) => res.status === 409 && problemType(res.body) === 'order-closed';

export interface PaymentOperation {
  id: string;
  kind: 'authorize' | 'confirm' | 'capture' | 'void' | 'refund';
  amountCents: number;
  currency: string;
  outcome: string;
  declineCode: string | null;
  createdAt: string;
}

export interface PaymentsOfOrder {
  orderId: string;
  payment: (Payment & Record<string, unknown>) | null;
  operations: PaymentOperation[];
  balance: { authorizedCents: number; capturedCents: number; voidedCents: number; refundedCents: number };
}

/** Client of the payment service's HTTP API (services/payment). */
export class PaymentClient {
  /** `token`: this caller's token for the payment service (one of its PAYMENT_CALLER_TOKENS; PAYMENT_TOKEN). */
  constructor(private readonly baseUrl: string, private readonly token: string, private readonly timeoutMs = 5_000) {}

  private request(url: string, init: PeerRequest) {
    return requestJson('payment', url, { ...init, headers: { ...bearer(this.token), ...init.headers } });
  }

  async authorize(req: { orderId: string; amountCents: number; currency: string; token: string }, idempotencyKey: string): Promise<AuthorizeOutcome> {
    const res = await this.request(`${this.baseUrl}/payments/authorize`, {
      method: 'POST', body: req, headers: { 'idempotency-key': idempotencyKey }, timeoutMs: this.timeoutMs,
    });
    const body = res.body as { paymentId?: string; status?: string; declineCode?: string };
    if (res.status === 201 && body.status === 'AUTHORIZED' && body.paymentId) return { kind: 'authorized', paymentId: body.paymentId };
    if (res.status === 202 && body.paymentId) return { kind: 'requires-confirmation', paymentId: body.paymentId };
    if (res.status === 402) return { kind: 'declined', declineCode: body.declineCode ?? problemType(res.body) ?? 'declined' };
    if (isOrderClosed(res)) return { kind: 'refused', reason: 'order-closed' };
    throw unexpected('payment', 'POST /payments/authorize', res);
  }

  async capture(paymentId: string, idempotencyKey: string): Promise<Payment> {
    return this.transition(paymentId, 'capture', idempotencyKey);
  }

  async void(paymentId: string, idempotencyKey: string): Promise<Payment> {
    return this.transition(paymentId, 'void', idempotencyKey);
  }

  async refund(paymentId: string, idempotencyKey: string): Promise<Payment> {
    return this.transition(paymentId, 'refund', idempotencyKey);
  }

  /** The saga's undo of authorize: fences the order, then voids its hold or refunds its capture, whatever it has by now. */
  async voidOrder(orderId: string, idempotencyKey: string): Promise<OrderPaymentUndo> {
    return this.undoOrder(orderId, 'void', idempotencyKey);
  }

  /** The saga's undo of capture: fences the order (no capture after this), then refunds what was captured. */
  async refundOrder(orderId: string, idempotencyKey: string): Promise<OrderPaymentUndo> {
    return this.undoOrder(orderId, 'refund', idempotencyKey);
  }

  async forOrder(orderId: string): Promise<PaymentsOfOrder> {
    const res = await this.request(`${this.baseUrl}/payments?orderId=${encodeURIComponent(orderId)}`, { method: 'GET', timeoutMs: this.timeoutMs });
    if (res.status === 200) return res.body as PaymentsOfOrder;
    throw unexpected('payment', 'GET /payments', res);
  }

  private async transition(paymentId: string, action: 'capture' | 'void' | 'refund', idempotencyKey: string): Promise<Payment> {
    const res = await this.request(`${this.baseUrl}/payments/${paymentId}/${action}`, {
      method: 'POST', body: {}, headers: { 'idempotency-key': idempotencyKey }, timeoutMs: this.timeoutMs,
    });
    if (res.status === 200 || res.status === 201) return res.body as Payment;
    if (action === 'capture' && isOrderClosed(res)) throw new PaymentOrderClosedError(`payment ${paymentId} was not captured: ${(res.body as { detail?: string }).detail ?? 'the order\'s payment was undone'}`);
    throw unexpected('payment', `POST /payments/${paymentId}/${action}`, res);
  }

  private async undoOrder(orderId: string, undo: 'void' | 'refund', idempotencyKey: string): Promise<OrderPaymentUndo> {
    const path = `/orders/${encodeURIComponent(orderId)}/payment/${undo}`;
    const res = await this.request(`${this.baseUrl}${path}`, {
      method: 'POST', body: {}, headers: { 'idempotency-key': idempotencyKey }, timeoutMs: this.timeoutMs,
    });
    const body = res.body as Partial<OrderPaymentUndo> | null;
    if (res.status === 200 && body && ['voided', 'refunded', 'nothing'].includes(body.result as string)) return body as OrderPaymentUndo;
    throw unexpected('payment', `POST ${path}`, res);
  }
}
