import { terminalStatuses, type OrderStatus } from '../order/status';
import { consumersOf } from '../../workers/subscriptions';
import { isUnreadable, type Diagnosis, type OrderInspection, type WorkflowView } from './inspection';

/**
 * The one-line diagnosis of an inspection: ordered rules, the first that matches wins. Pure (the
 * inspection and "now" in, a sentence out), so each rule is unit-tested with hand-made snapshots
 * (test/unit/inspection-diagnosis.test.ts). The order says what to look at first: a workflow
 * that was stopped from outside, then parts that are down, then what the order is waiting for.
 */

/** How long something may wait before it counts as stuck rather than on its way. */
export const DIAGNOSIS_THRESHOLDS = {
  /** A workflow task or activity nobody picked up. */
  workerPickupSeconds: 15,
  /** An outbox row the relay has not published (it publishes within a second when up). */
  relayLagSeconds: 15,
  /** A published event a consumer has not handled. */
  consumerLagSeconds: 30,
  /** The row and the workflow's live status may differ while a state write is in flight. */
  statusSettleSeconds: 15,
} as const;

export type InspectionFacts = Omit<OrderInspection, 'diagnosis'>;

const seconds = (from: string, now: Date) => Math.max(0, Math.round((now.getTime() - new Date(from).getTime()) / 1000));

/** `45 s`, `4 min`, `2 h 5 min`: how long, for a person. */
export function humanDuration(totalSeconds: number): string {
  if (totalSeconds < 90) return `${totalSeconds} s`;
  const minutes = Math.round(totalSeconds / 60);
  if (minutes < 120) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** `12:05 UTC` today, `2026-12-01 12:05 UTC` another day. */
export function clockTime(iso: string, now: Date): string {
  const at = new Date(iso).toISOString();
  const time = `${at.slice(11, 16)} UTC`;
  return at.slice(0, 10) === now.toISOString().slice(0, 10) ? time : `${at.slice(0, 10)} ${time}`;
}

const isTerminal = (status: string | undefined) => status !== undefined && terminalStatuses.has(status as OrderStatus);

function workflowOf(facts: InspectionFacts): WorkflowView | null {
  return facts.workflow && !isUnreadable(facts.workflow) ? facts.workflow : null;
}

/** What the peers still hold for the order, and how to undo each by hand (README "Never Terminate"). */
function leftovers(facts: InspectionFacts): { held: string[]; steps: string[] } {
  const held: string[] = [];
  const steps: string[] = [];
  const id = facts.orderId;
  const reservation = facts.inventory;
  if (!isUnreadable(reservation) && reservation?.status === 'RESERVED') {
    held.push('stock still reserved');
    steps.push(`POST $INVENTORY_URL/reservations/${id}/release (Idempotency-Key order/${id}/release-stock)`);
  }
  const payment = facts.payment;
  if (!isUnreadable(payment) && payment) {
    if (payment.status === 'AUTHORIZED' || payment.status === 'REQUIRES_CONFIRMATION') {
      held.push(`payment ${payment.status.toLowerCase().replace('_', ' ')}`);
      steps.push(`POST $PAYMENT_URL/payments/${payment.paymentId}/void (Idempotency-Key order/${id}/void-payment)`);
    } else if (payment.status === 'CAPTURED' && reservation && !isUnreadable(reservation) && reservation.status !== 'COMMITTED') {
      held.push('payment captured');
      steps.push(`POST $PAYMENT_URL/payments/${payment.paymentId}/refund (Idempotency-Key order/${id}/refund-payment)`);
    }
  }
  if (isUnreadable(reservation)) held.push(`stock unknown (${reservation.unreadable})`);
  if (isUnreadable(payment)) held.push(`payment unknown (${payment.unreadable})`);
  return { held, steps };
}

type Rule = (facts: InspectionFacts, now: Date) => string | undefined;

/** The rules in the order they are tried; the name is the diagnosis's `rule`. */
const RULES: [name: string, rule: Rule][] = [
  ['unknown-order', (f) => (!f.order && f.workflow === null && f.outbox.length === 0 ? 'no such order: no row, no workflow and no events for this id' : undefined)],
  ['workflow-terminated', (f) => {
    const wf = workflowOf(f);
    if (wf?.status !== 'TERMINATED' || isTerminal(f.order?.status)) return undefined;
    const { held, steps } = leftovers(f);
    const by = wf.termination ? ` (${wf.termination.reason || 'no reason given'}, by ${wf.termination.identity || 'unknown'})` : '';
    const what = held.length > 0 ? held.join(', ') : 'nothing held at the peers';
    const todo = steps.length > 0 ? `undo by hand: ${steps.join('; ')}` : 'nothing to undo';
    return `workflow terminated by an operator${by}: ${what}; ${todo}; the row stays ${f.order?.status ?? 'unrecorded'} (README "Never Terminate")`;
  }],
  ['workflow-failed', (f) => {
    const wf = workflowOf(f);
    if (wf?.status !== 'FAILED') return undefined;
    const failure = wf.failure ? `${wf.failure.type ? `${wf.failure.type}: ` : ''}${wf.failure.message}` : 'no failure recorded';
    return `workflow failed: ${failure}; once the cause is fixed, reset it (README "When the order's state cannot be recorded")`;
  }],
  ['worker-down', (f, now) => {
    const wf = workflowOf(f);
    if (wf?.status !== 'RUNNING') return undefined;
    const task = wf.pendingWorkflowTask;
    if (task?.state === 'SCHEDULED' && task.scheduledAt && seconds(task.scheduledAt, now) > DIAGNOSIS_THRESHOLDS.workerPickupSeconds) {
      return `worker down: workflow task not picked up for ${humanDuration(seconds(task.scheduledAt, now))}`;
    }
    const waiting = wf.pendingActivities.find((a) => {
      const since = a.nextAttemptAt ?? a.scheduledAt;
      return a.state === 'SCHEDULED' && since !== null && seconds(since, now) > DIAGNOSIS_THRESHOLDS.workerPickupSeconds;
    });
    if (!waiting) return undefined;
    return `worker down: activity ${waiting.activityType} not picked up for ${humanDuration(seconds(waiting.nextAttemptAt ?? waiting.scheduledAt!, now))}`;
  }],
  ['step-retrying', (f) => {
    const wf = workflowOf(f);
    const retrying = wf?.status === 'RUNNING' ? wf.pendingActivities.find((a) => a.attempt > 1 && a.lastFailure) : undefined;
    if (!retrying) return undefined;
    return `step ${retrying.activityType} retrying (attempt ${retrying.attempt}): ${retrying.lastFailure!.message}`;
  }],
  ['relay-down', (f, now) => {
    const stale = f.outbox.filter((e) => e.publishedAt === null && seconds(e.occurredAt, now) > DIAGNOSIS_THRESHOLDS.relayLagSeconds);
    if (stale.length === 0) return undefined;
    const oldest = Math.max(...stale.map((e) => seconds(e.occurredAt, now)));
    return `relay down: ${stale.length} event${stale.length === 1 ? '' : 's'} unpublished for ${humanDuration(oldest)}`;
  }],
  ['dead-lettered', (f) => {
    if (isUnreadable(f.deadLetters) || f.deadLetters.length === 0) return undefined;
    const [first] = f.deadLetters;
    const more = f.deadLetters.length > 1 ? ` (and ${f.deadLetters.length - 1} more)` : '';
    return `${first!.consumer} consumer dead-lettered ${first!.eventType}: ${first!.reason}${more}; after a fix: npm run ops -- dlq replay ${first!.seq}`;
  }],
  ['consumer-behind', (f, now) => {
    for (const event of f.outbox) {
      if (!event.publishedAt || seconds(event.publishedAt, now) <= DIAGNOSIS_THRESHOLDS.consumerLagSeconds) continue;
      const behind = consumersOf(event.type).find((c) => !f.inboxes.some((i) => i.consumer === c && i.eventId === event.eventId && i.handled));
      if (behind) return `${behind} consumer has not handled ${event.type} published ${humanDuration(seconds(event.publishedAt, now))} ago: consumer down or behind`;
    }
    return undefined;
  }],
  ['compensation-failed', (f) => (f.order?.status === 'COMPENSATION_FAILED'
    ? `compensation failed: still to do by hand, in order: ${f.order.pendingUndos.join(', ') || '(none listed)'} (README "Order statuses and the saga")`
    : undefined)],
  ['temporal-unreadable', (f) => (isUnreadable(f.workflow) && !isTerminal(f.order?.status) ? `cannot read the workflow: ${f.workflow.unreadable}` : undefined)],
  ['workflow-missing', (f) => (f.workflow === null && f.order && !isTerminal(f.order.status)
    ? `no workflow for this ${f.order.status} order (past Temporal's retention, or another namespace); the row cannot move on by itself`
    : undefined)],
  ['workflow-closed-row-open', (f) => {
    const wf = workflowOf(f);
    if (!wf || wf.status === 'RUNNING' || !f.order || isTerminal(f.order.status)) return undefined;
    return `the workflow is ${wf.status} but the row still says ${f.order.status}: its last state write was lost; see the workflow's result in the Web UI`;
  }],
  ['waiting-for-payment', (f, now) => {
    const wf = workflowOf(f);
    if (wf?.status !== 'RUNNING' || isUnreadable(wf.liveState) || wf.liveState.status !== 'AWAITING_PAYMENT_CONFIRMATION') return undefined;
    const deadline = wf.liveState.paymentConfirmationDeadline;
    return `waiting for payment confirmation${deadline ? ` until ${clockTime(deadline, now)}` : ''}`;
  }],
  ['no-live-state', (f) => {
    const wf = workflowOf(f);
    return wf?.status === 'RUNNING' && isUnreadable(wf.liveState) ? `workflow running but its status query failed: ${wf.liveState.unreadable}` : undefined;
  }],
  ['status-mismatch', (f, now) => {
    const wf = workflowOf(f);
    if (wf?.status !== 'RUNNING' || isUnreadable(wf.liveState) || !f.order || wf.liveState.status === f.order.status) return undefined;
    if (seconds(f.order.updatedAt, now) <= DIAGNOSIS_THRESHOLDS.statusSettleSeconds) return undefined;
    return `the row says ${f.order.status} but the workflow says ${wf.liveState.status}: a state write is failing (see the worker's log)`;
  }],
  ['in-progress', (f) => {
    const wf = workflowOf(f);
    if (wf?.status !== 'RUNNING') return undefined;
    const live = isUnreadable(wf.liveState) ? undefined : wf.liveState;
    const step = live?.currentStep ?? wf.pendingActivities[0]?.activityType;
    return `in progress: ${live?.status ?? f.order?.status ?? 'PENDING'}${step ? `, step ${step}` : ''}${live?.cancelRequested ? ', cancel requested' : ''}`;
  }],
  ['events-unpublished', (f) => (f.outbox.some((e) => e.publishedAt === null) ? 'ended; its last events are being published' : undefined)],
  ['consumers-pending', (f) => {
    const pending = f.outbox.some((e) => consumersOf(e.type).some((c) => !f.inboxes.some((i) => i.consumer === c && i.eventId === e.eventId && i.handled)));
    return pending ? 'ended; consumers are still handling its events' : undefined;
  }],
  ['all-done', (f) => `all done: ${f.order?.status ?? 'no row'}${f.emails.some((e) => e.status === 'SENT') ? ', email sent' : ''}, every event published and handled`],
];

export function diagnose(facts: InspectionFacts, now: Date): Diagnosis {
  for (const [rule, test] of RULES) {
    const text = test(facts, now);
    if (text !== undefined) return { rule, text };
  }
  throw new Error('unreachable: the last rule always answers');
}
