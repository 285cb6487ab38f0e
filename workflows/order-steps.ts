import type { ActivityOptions } from '@temporalio/workflow';
import type { OrderActivities } from '../activities';
import type { AuthorizeRequest, AuthorizeResult } from '../activities/payment';
import type { StockRequest } from '../activities/inventory';
import type { RecordAfterStep } from './state-recording';
import { activities, call, localAttemptOr, localFirst, type ActivityName, type ResultOf } from './order-activities';
import { afterLocalAttempt, forwardStepOptions, undoStepOptions } from './retry-policies';

/**
 * Runs the saga's activities: each a regular activity before change localFirst, local first since
 * (order-activities.ts); and the undos of its steps, which address the order (activities/): each
 * is safe when its step never happened.
 */
export class OrderSteps {
  /** Whether an undo gave back a captured payment. */
  refunded = false;

  constructor(private readonly orderId: string, private readonly localFirstSteps: boolean) {}

  run<K extends ActivityName>(summary: string, options: ActivityOptions, name: K, ...args: Parameters<OrderActivities[K]>): Promise<ResultOf<K>> {
    return this.localFirstSteps ? localFirst(summary, options, name, ...args) : call(activities(summary, options), name, args);
  }

  /**
   * Since change fusedRecords, a forward step's local attempt also records the transition it
   * causes (activities/recorded-steps.ts), and these return that event's id. If the attempt failed
   * in a way worth retrying, the step alone runs as the regular activity, as before, and no id is
   * returned: the caller records the transition itself.
   */
  reserveStockRecorded(step: StockRequest, record: RecordAfterStep): Promise<string | undefined> {
    return localAttemptOr('Reserve stock', 'reserveStockRecorded', [{ step, record: { ...record, transition: { to: 'STOCK_RESERVED' } } }], 'reserveStock',
      async () => { await this.regular('Reserve stock', 'reserveStock', step); return undefined; });
  }

  authorizePaymentRecorded(step: AuthorizeRequest, record: RecordAfterStep): Promise<{ payment: AuthorizeResult; eventId?: string }> {
    return localAttemptOr('Authorize payment', 'authorizePaymentRecorded', [{ step, record }], 'authorizePayment',
      async () => ({ payment: await this.regular('Authorize payment', 'authorizePayment', step) }));
  }

  capturePaymentRecorded(step: { orderId: string; paymentId: string }, record: RecordAfterStep): Promise<string | undefined> {
    return localAttemptOr('Capture payment', 'capturePaymentRecorded', [{ step, record }], 'capturePayment',
      async () => { await this.regular('Capture payment', 'capturePayment', step); return undefined; });
  }

  /** A forward step as the regular activity that takes over after its local attempt. */
  private regular<K extends ActivityName>(summary: string, name: K, ...args: Parameters<OrderActivities[K]>): Promise<ResultOf<K>> {
    return call(activities(summary, afterLocalAttempt(forwardStepOptions)), name, args);
  }

  releaseStock() {
    return this.run('Undo: release stock', undoStepOptions, 'releaseStock', { orderId: this.orderId });
  }

  /** Voids the order's payment; since change localFirst a capture it finds and refunds counts as refunded (OrderSaga.undoStepsALostTaskMayHaveRun). */
  async voidPayment() {
    const result = await this.run('Undo: void payment', undoStepOptions, 'voidPayment', { orderId: this.orderId });
    if (this.localFirstSteps && result === 'refunded') this.refunded = true;
    return result;
  }

  async refundPayment() {
    this.refunded = (await this.run('Undo: refund payment', undoStepOptions, 'refundPayment', { orderId: this.orderId })) === 'refunded';
  }
}
