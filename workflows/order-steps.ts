import type { ActivityOptions } from '@temporalio/workflow';
import type { OrderActivities } from '../activities';
import type { AuthorizeRequest, AuthorizeResult, CaptureRequest } from '../activities/payment';
import type { StockRequest } from '../activities/inventory';
import type { RecordAfterStep } from '../activities/recorded-steps';
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

  /** `localFirstSteps`, `fusedRecords`: whether changes localFirst and fusedRecords apply (cancel-reasons.ts). */
  constructor(private readonly orderId: string, private readonly localFirstSteps: boolean, private readonly fusedRecords: boolean) {}

  private run<K extends ActivityName>(summary: string, options: ActivityOptions, name: K, ...args: Parameters<OrderActivities[K]>): Promise<ResultOf<K>> {
    return this.localFirstSteps ? localFirst(summary, options, name, ...args) : call(activities(summary, options), name, args);
  }

  /**
   * The forward steps. Each returns the id of the event recording the status it leads to when it
   * recorded it itself: since change fusedRecords a step's local attempt also records that move
   * (activities/recorded-steps.ts; `record` names the event). Otherwise (before that change, or
   * when the attempt failed in a way worth retrying and the step ran as the regular activity)
   * there is none, and the caller records the move.
   */
  async reserveStock(step: StockRequest, record: () => RecordAfterStep): Promise<string | undefined> {
    if (!this.fusedRecords) return void await this.run('Reserve stock', forwardStepOptions, 'reserveStock', step);
    return localAttemptOr('Reserve stock', 'reserveStockRecorded', [{ step, record: record() }], 'reserveStock',
      async () => void await this.regular('Reserve stock', 'reserveStock', step));
  }

  async authorizePayment(step: AuthorizeRequest, record: () => RecordAfterStep): Promise<{ payment: AuthorizeResult; recordedAs?: string }> {
    if (!this.fusedRecords) return { payment: await this.run('Authorize payment', forwardStepOptions, 'authorizePayment', step) };
    const { payment, eventId } = await localAttemptOr('Authorize payment', 'authorizePaymentRecorded', [{ step, record: record() }], 'authorizePayment',
      async () => ({ payment: await this.regular('Authorize payment', 'authorizePayment', step), eventId: undefined }));
    return { payment, recordedAs: eventId };
  }

  async capturePayment(step: CaptureRequest, record: () => RecordAfterStep): Promise<string | undefined> {
    if (!this.fusedRecords) return void await this.run('Capture payment', forwardStepOptions, 'capturePayment', step);
    return localAttemptOr('Capture payment', 'capturePaymentRecorded', [{ step, record: record() }], 'capturePayment',
      async () => void await this.regular('Capture payment', 'capturePayment', step));
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
