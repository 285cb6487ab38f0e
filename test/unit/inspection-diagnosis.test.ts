import { diagnose, humanDuration, type InspectionFacts } from '../../common/inspection/diagnosis';
import type { OutboxView, PendingActivityView, WorkflowView } from '../../common/inspection/inspection';
import { stuckReason } from '../../common/inspection/stuck';

/**
 * The diagnosis rules (common/inspection/diagnosis.ts) and the stuck rules (stuck.ts) on
 * hand-made snapshots: fake inspections, no infrastructure. The join that fills real ones is
 * tested in test/e2e/order-inspection.test.ts.
 */
const NOW = new Date('2026-11-30T12:00:00.000Z');
const ago = (seconds: number) => new Date(NOW.getTime() - seconds * 1000).toISOString();
const later = (seconds: number) => new Date(NOW.getTime() + seconds * 1000).toISOString();
const ORDER_ID = '11111111-1111-4111-8111-111111111111';

function fakeEvent(type: string, published: boolean, ageSeconds = 60, id = `00000000-0000-4000-8000-${String(Math.abs(type.length * 7919 + ageSeconds)).padStart(12, '0')}`): OutboxView {
  return { eventId: id, type, sequence: '1', occurredAt: ago(ageSeconds), publishedAt: published ? ago(ageSeconds - 1) : null, lagSeconds: published ? 1 : ageSeconds };
}

function fakeRunningWorkflow(over: Partial<WorkflowView> = {}): WorkflowView {
  return {
    workflowId: `order-${ORDER_ID}`, runId: 'run-1', status: 'RUNNING', startedAt: ago(120), closedAt: null, searchAttributeStatus: 'STOCK_RESERVED',
    pendingWorkflowTask: null, pendingActivities: [], timers: [], termination: null, failure: null,
    liveState: { orderId: ORDER_ID, status: 'STOCK_RESERVED', currentStep: 'authorize-payment', completedSteps: ['reserve-stock'] },
    ...over,
  };
}

function fakeActivity(over: Partial<PendingActivityView> = {}): PendingActivityView {
  return { activityType: 'reserveStock', state: 'STARTED', attempt: 1, maximumAttempts: null, scheduledAt: ago(5), lastStartedAt: ago(5), nextAttemptAt: null, lastFailure: null, ...over };
}

/** A confirmed order with everything published and handled: the baseline each test breaks one part of. */
function fakeConfirmedOrder(over: Partial<InspectionFacts> = {}): InspectionFacts {
  const outbox = [fakeEvent('OrderPlaced', true, 300), fakeEvent('OrderConfirmed', true, 200)];
  return {
    orderId: ORDER_ID, inspectedAt: NOW.toISOString(),
    order: {
      status: 'CONFIRMED', clientId: 'shop', customerId: 'c-1', totalCents: 1000, currency: 'EUR', cancelReasonCode: null, pendingUndos: [],
      correlationId: 'corr-1', createdAt: ago(300), updatedAt: ago(200),
    },
    transitions: outbox.map((e) => ({ event: e.type, at: e.occurredAt })),
    workflow: { ...fakeRunningWorkflow(), status: 'COMPLETED', closedAt: ago(200), liveState: { unreadable: 'not asked: the workflow is COMPLETED' } },
    outbox,
    stream: { stream: 'ORDER_EVENTS', messages: [], notFound: [] },
    inboxes: [
      { consumer: 'analytics', eventId: outbox[0]!.eventId, type: 'OrderPlaced', handled: true, handledAt: ago(299) },
      { consumer: 'analytics', eventId: outbox[1]!.eventId, type: 'OrderConfirmed', handled: true, handledAt: ago(199) },
      { consumer: 'email', eventId: outbox[1]!.eventId, type: 'OrderConfirmed', handled: true, handledAt: ago(199) },
    ],
    deadLetters: [],
    emails: [{ eventId: outbox[1]!.eventId, subject: 'Your order is confirmed', status: 'SENT', attempts: 1, sentAt: ago(199) }],
    payment: { paymentId: 'pay-1', status: 'CAPTURED', amountCents: 1000, currency: 'EUR', operations: [] },
    inventory: { status: 'COMMITTED', lines: [{ sku: 'MUG-001', quantity: 1 }] },
    ...over,
  };
}

/** An order in flight: row STOCK_RESERVED, workflow running, OrderPlaced and StockReserved handled. */
function fakeOrderInFlight(over: Partial<InspectionFacts> = {}): InspectionFacts {
  const base = fakeConfirmedOrder();
  const outbox = [fakeEvent('OrderPlaced', true, 100), fakeEvent('StockReserved', true, 90)];
  return {
    ...base,
    order: { ...base.order!, status: 'STOCK_RESERVED', createdAt: ago(100), updatedAt: ago(90) },
    workflow: fakeRunningWorkflow(),
    outbox,
    inboxes: outbox.map((e) => ({ consumer: 'analytics', eventId: e.eventId, type: e.type, handled: true, handledAt: e.occurredAt })),
    emails: [],
    payment: null,
    inventory: { status: 'RESERVED', lines: [{ sku: 'MUG-001', quantity: 1 }] },
    ...over,
  };
}

describe('diagnosis rules (fake inspections)', () => {
  it('says "all done" when the order ended and every event was published and handled', () => {
    expect(diagnose(fakeConfirmedOrder(), NOW)).toEqual({ rule: 'all-done', text: 'all done: CONFIRMED, email sent, every event published and handled' });
  });

  it('counts unpublished events and how long the oldest waited: relay down', () => {
    const facts = fakeOrderInFlight({ outbox: [fakeEvent('OrderPlaced', true, 300), fakeEvent('StockReserved', false, 240), fakeEvent('PaymentAuthorized', false, 200), fakeEvent('PaymentCaptured', false, 100)] });
    expect(diagnose(facts, NOW)).toEqual({ rule: 'relay-down', text: 'relay down: 3 events unpublished for 4 min' });
  });

  it('does not call a just-written event a relay outage', () => {
    const facts = fakeOrderInFlight({ outbox: [fakeEvent('OrderPlaced', true, 100), fakeEvent('StockReserved', false, 2)] });
    expect(diagnose(facts, NOW).rule).not.toBe('relay-down');
  });

  it('names the consumer, the event and the reason of a dead letter, and the replay command', () => {
    const facts = fakeConfirmedOrder({
      deadLetters: [{ seq: 7, consumer: 'email', eventType: 'OrderConfirmed', failedAt: ago(60), deliveries: 10, reason: 'SMTP 550 mailbox unavailable' }],
      inboxes: fakeConfirmedOrder().inboxes.filter((i) => i.consumer !== 'email'),
    });
    expect(diagnose(facts, NOW)).toEqual({
      rule: 'dead-lettered', text: 'email consumer dead-lettered OrderConfirmed: SMTP 550 mailbox unavailable; after a fix: npm run ops -- dlq replay 7',
    });
  });

  it('says a consumer is behind when a published event stays unhandled', () => {
    const facts = fakeConfirmedOrder({ inboxes: fakeConfirmedOrder().inboxes.filter((i) => i.consumer !== 'email') });
    expect(diagnose(facts, NOW)).toEqual({ rule: 'consumer-behind', text: 'email consumer has not handled OrderConfirmed published 3 min ago: consumer down or behind' });
  });

  it('gives the payment confirmation deadline', () => {
    const live = { orderId: ORDER_ID, status: 'AWAITING_PAYMENT_CONFIRMATION' as const, currentStep: 'await-payment-confirmation', completedSteps: ['reserve-stock'], paymentConfirmationDeadline: later(300) };
    const facts = fakeOrderInFlight({ workflow: fakeRunningWorkflow({ liveState: live }), order: { ...fakeOrderInFlight().order!, status: 'AWAITING_PAYMENT_CONFIRMATION' } });
    expect(diagnose(facts, NOW)).toEqual({ rule: 'waiting-for-payment', text: 'waiting for payment confirmation until 12:05 UTC' });
  });

  it('says who terminated the workflow, what the peers still hold and how to undo it', () => {
    const facts = fakeOrderInFlight({
      workflow: fakeRunningWorkflow({ status: 'TERMINATED', closedAt: ago(30), termination: { reason: 'stuck', identity: 'ops@host' }, liveState: { unreadable: 'closed' } }),
      payment: { paymentId: 'pay-9', status: 'AUTHORIZED', amountCents: 1000, currency: 'EUR', operations: [] },
    });
    const { rule, text } = diagnose(facts, NOW);
    expect(rule).toBe('workflow-terminated');
    expect(text).toMatch(/^workflow terminated by an operator \(stuck, by ops@host\): stock still reserved, payment authorized; undo by hand: /);
    expect(text).toContain(`POST $INVENTORY_URL/reservations/${ORDER_ID}/release (Idempotency-Key order/${ORDER_ID}/release-stock)`);
    expect(text).toContain(`POST $PAYMENT_URL/payments/pay-9/void (Idempotency-Key order/${ORDER_ID}/void-payment)`);
  });

  it('says a workflow task nobody picks up means the worker is down', () => {
    const facts = fakeOrderInFlight({ workflow: fakeRunningWorkflow({ pendingWorkflowTask: { state: 'SCHEDULED', scheduledAt: ago(180), attempt: 1 } }) });
    expect(diagnose(facts, NOW)).toEqual({ rule: 'worker-down', text: 'worker down: workflow task not picked up for 3 min' });
  });

  it('puts a worker outage before a relay outage, and both before what the order waits for', () => {
    const facts = fakeOrderInFlight({
      workflow: fakeRunningWorkflow({ pendingActivities: [fakeActivity({ state: 'SCHEDULED', scheduledAt: ago(120) })] }),
      outbox: [fakeEvent('OrderPlaced', false, 130)],
    });
    expect(diagnose(facts, NOW)).toEqual({ rule: 'worker-down', text: 'worker down: activity reserveStock not picked up for 2 min' });
  });

  it('names the step, the attempt and the decoded last failure of a retrying activity', () => {
    const facts = fakeOrderInFlight({
      workflow: fakeRunningWorkflow({ pendingActivities: [fakeActivity({ attempt: 5, lastFailure: { type: 'TransientPeerError', message: 'inventory POST /reservations answered 503' } })] }),
    });
    expect(diagnose(facts, NOW)).toEqual({ rule: 'step-retrying', text: 'step reserveStock retrying (attempt 5): inventory POST /reservations answered 503' });
  });

  it('says so when the status query fails', () => {
    const facts = fakeOrderInFlight({ workflow: fakeRunningWorkflow({ liveState: { unreadable: 'status query failed (no worker polling the task queue?): deadline exceeded' } }) });
    expect(diagnose(facts, NOW).text).toBe('workflow running but its status query failed: status query failed (no worker polling the task queue?): deadline exceeded');
  });

  it('flags a closed workflow whose row is not terminal, and a failed workflow with its failure', () => {
    const closed = fakeOrderInFlight({ workflow: { ...fakeRunningWorkflow(), status: 'COMPLETED', liveState: { unreadable: 'closed' } } });
    expect(diagnose(closed, NOW).rule).toBe('workflow-closed-row-open');
    const failed = fakeOrderInFlight({ workflow: { ...fakeRunningWorkflow(), status: 'FAILED', failure: { type: 'OrderStateNotRecorded', message: 'could not record CANCELLED' }, liveState: { unreadable: 'closed' } } });
    expect(diagnose(failed, NOW).text).toMatch(/^workflow failed: OrderStateNotRecorded: could not record CANCELLED; once the cause is fixed, reset it/);
  });

  it('lists the undos left after a failed compensation', () => {
    const base = fakeConfirmedOrder();
    const facts = fakeConfirmedOrder({ order: { ...base.order!, status: 'COMPENSATION_FAILED', pendingUndos: ['void-payment', 'release-stock'] } });
    expect(diagnose(facts, NOW).text).toMatch(/^compensation failed: still to do by hand, in order: void-payment, release-stock/);
  });

  it('says in progress with the current step for a healthy running order, and "no such order" for nothing at all', () => {
    expect(diagnose(fakeOrderInFlight(), NOW)).toEqual({ rule: 'in-progress', text: 'in progress: STOCK_RESERVED, step authorize-payment' });
    expect(diagnose(fakeConfirmedOrder({ order: null, workflow: null, outbox: [], inboxes: [], emails: [] }), NOW).rule).toBe('unknown-order');
  });

  it('writes durations for people', () => {
    expect([humanDuration(45), humanDuration(240), humanDuration(7_500)]).toEqual(['45 s', '4 min', '2 h 5 min']);
  });
});

describe('stuck rules (fake rows and workflows)', () => {
  const TEN_MIN = 10 * 60_000;
  const row = (status: string, ageSeconds: number, updatedSecondsAgo = ageSeconds) => ({ status, createdAt: new Date(ago(ageSeconds)), updatedAt: new Date(ago(updatedSecondsAgo)) });
  const running = (status: string) => ({ status: 'RUNNING', searchAttributeStatus: status });

  it('lists orders not terminal past the threshold, not younger ones or ended ones', () => {
    expect(stuckReason(row('STOCK_RESERVED', 900), running('STOCK_RESERVED'), NOW, TEN_MIN)).toBe('not terminal past the threshold');
    expect(stuckReason(row('STOCK_RESERVED', 60), running('STOCK_RESERVED'), NOW, TEN_MIN)).toBeUndefined();
    expect(stuckReason(row('CONFIRMED', 900), { status: 'COMPLETED', searchAttributeStatus: 'CONFIRMED' }, NOW, TEN_MIN)).toBeUndefined();
  });

  it('lists rows that disagree with their workflow, whatever their age', () => {
    expect(stuckReason(row('PAYMENT_CAPTURED', 30), { status: 'TERMINATED', searchAttributeStatus: 'PAYMENT_CAPTURED' }, NOW, TEN_MIN)).toBe('workflow TERMINATED, row not terminal');
    expect(stuckReason(row('PENDING', 60, 60), running('PAYMENT_AUTHORIZED'), NOW, TEN_MIN)).toBe('workflow says PAYMENT_AUTHORIZED, row says PENDING');
    expect(stuckReason(row('PENDING', 5, 5), running('STOCK_RESERVED'), NOW, TEN_MIN)).toBeUndefined(); // a write in flight
    expect(stuckReason(row('CONFIRMED', 1_200, 900), running('CONFIRMED'), NOW, TEN_MIN)).toBe('workflow still running after the row ended');
    expect(stuckReason(null, running('PENDING'), NOW, TEN_MIN)).toBe('workflow running, order never recorded');
  });
});
