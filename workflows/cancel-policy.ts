import type { OrderOutcome, OrderSagaState } from '../common/order';

/**
 * Whether a customer's cancel can still be accepted, as the cancel update's validator asks it.
 * Pure, so it is unit tested on its own. Returns the reason to refuse, or undefined to accept.
 * - Accepted while the saga can still be undone: any time before the stock is committed.
 * - Accepted again (same answer) once the customer's cancel is under way or done.
 * - Refused once the order is being confirmed (stock commit started) or has ended otherwise,
 *   and while the saga is already undoing its steps for another reason.
 */
export function cancelRefusal(state: Pick<OrderSagaState, 'currentStep' | 'completedSteps' | 'cancelRequested'>, outcome: OrderOutcome | undefined): string | undefined {
  if (state.cancelRequested) return undefined;
  if (outcome) return `Order is ${outcome.status} and can no longer be cancelled`;
  // Also after the commit, while CONFIRMED is being recorded: there is no current step then.
  if (state.currentStep === 'commit-stock' || state.completedSteps.includes('commit-stock')) return 'Order is being confirmed and can no longer be cancelled';
  if (state.currentStep === 'compensating') return 'Order is already being cancelled and can no longer be cancelled by the customer';
  return undefined;
}
