import type { ActivityOptions } from '@temporalio/workflow';
import type { OrderActivities } from '../activities';
import { activities, call, localFirst, type ActivityName, type ResultOf } from './order-activities';
import { undoStepOptions } from './retry-policies';

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
