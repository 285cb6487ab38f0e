import { ActivityFailure, ApplicationFailure, CancellationScope, log, patched, uuid4 } from '@temporalio/workflow';
import type { OrderActivities } from '../activities';
import { STATE_NOT_RECORDED_FAILURE } from '../common/failures';
import { orderStatuses, type OrderStatus, type OrderTransition } from '../common/order/status';
import type { OrderSagaState } from '../common/order/workflow-contract';
import { changes } from './cancel-reasons';
import { call, localFirst, record, recordBounded } from './order-activities';
import { boundedRecordStateOptions, STATE_RECORDING_BUDGET } from './retry-policies';

type PlacedOrder = Parameters<OrderActivities['recordOrderPlaced']>[0]['order'];
/** What a step that records its own transition needs to write it (activities/recorded-steps.ts); the step adds the transition. */
export type RecordAfterStep = { orderId: string; eventId: string; causationId: string };

/**
 * Writes the order's state changes (activities/order-state.ts): each with its event, which names
 * the one before it as its cause. A cancel (customer's or operator's) does not abandon a write
 * halfway: an abandoned write could still commit after the saga moved on (e.g. the order row
 * created after the cancel was recorded, or an event chain with a gap), so the saga waits for its
 * answer. A write that cannot be done within STATE_RECORDING_BUDGET throws `notRecorded`'s failure.
 */
export class StateRecorder {
  /** The order's latest event: the cause of the next one. */
  private lastEventId!: string;
  private readonly eventIds = new Map<OrderStatus, string>();

  constructor(private readonly localFirstSteps: boolean, private readonly notRecorded: (to: OrderStatus, err: unknown) => Error) {
    // Since change localFirst each status's event id is drawn up front. A workflow task re-run
    // after its worker was lost repeats the local activities that worker ran, but may take another
    // path (a cancel that arrived meanwhile): ids drawn in the order of the writes could then give
    // a status the id of an event already written for another one, and its write would be skipped.
    if (localFirstSteps) for (const status of orderStatuses) this.eventIds.set(status, uuid4());
  }

  /** Records the order (PENDING) and its OrderPlaced event. */
  async placed(order: PlacedOrder): Promise<void> {
    const request = { order, eventId: this.eventIdFor('PENDING') };
    this.lastEventId = await this.record('PENDING', 'recordOrderPlaced', request);
  }

  /**
   * Moves the order to a new status and writes its event; `recordedAs`: the id of the event a
   * step already wrote for this move (since change fusedRecords), so nothing is written here.
   */
  async moved(orderId: string, transition: OrderTransition, recordedAs?: string): Promise<void> {
    if (recordedAs !== undefined) {
      this.lastEventId = recordedAs;
      return;
    }
    const request = { orderId, eventId: this.eventIdFor(transition.to), causationId: this.lastEventId, transition };
    this.lastEventId = await this.record(transition.to, 'recordOrderTransition', request);
  }

  /** For a step that records its move to `to` itself: the event id drawn for that status, and its cause. */
  requestFor(orderId: string, to: OrderStatus): RecordAfterStep {
    return { orderId, eventId: this.eventIdFor(to), causationId: this.lastEventId };
  }

  private eventIdFor(status: OrderStatus): string {
    return this.localFirstSteps ? this.eventIds.get(status)! : uuid4();
  }

  private async record<K extends 'recordOrderPlaced' | 'recordOrderTransition'>(to: OrderStatus, name: K, ...args: Parameters<OrderActivities[K]>): Promise<string> {
    if (!this.localFirstSteps && !patched(changes.boundedRecording)) {
      return patched(changes.operatorCancel) ? CancellationScope.nonCancellable(() => call(record, name, args)) : call(record, name, args);
    }
    try {
      return await CancellationScope.nonCancellable(() => this.localFirstSteps
        ? localFirst('Record order state and event', boundedRecordStateOptions, name, ...args) : call(recordBounded, name, args));
    } catch (err) {
      throw this.notRecorded(to, err);
    }
  }
}

/**
 * The failure that ends the workflow when a state change could not be recorded, and the note for
 * operators (Web UI current details) with what they need to know.
 */
export function stateNotRecorded(to: OrderStatus, err: unknown, live: OrderSagaState, pendingUndos: string[]): { failure: ApplicationFailure; operatorNote: string } {
  const { orderId } = live;
  const failure = err instanceof ActivityFailure && err.cause ? err.cause : err as Error;
  const row = to === 'PENDING' ? 'the order has no row yet' : `the order's row still says ${live.status}`;
  const facts = {
    orderId, notRecorded: to, recordedStatus: to === 'PENDING' ? null : live.status, completedSteps: [...live.completedSteps],
    pendingUndos, budget: STATE_RECORDING_BUDGET, error: failure.message,
  };
  const operatorNote = `Could not record the move to ${to} (${failure.message}); ${row}. Steps done: ${facts.completedSteps.join(', ') || 'none'}; `
    + `undos still to do: ${facts.pendingUndos.join(', ') || 'none'}.`;
  log.error(`the order's state could not be recorded within ${STATE_RECORDING_BUDGET}`, facts);
  return {
    operatorNote,
    failure: ApplicationFailure.create({
      type: STATE_NOT_RECORDED_FAILURE, nonRetryable: true, details: [facts], cause: failure,
      message: `Order ${orderId}: could not record its move to ${to} within ${STATE_RECORDING_BUDGET}; ${row}`,
    }),
  };
}
