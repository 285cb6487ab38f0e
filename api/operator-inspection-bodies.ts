import { z } from 'zod';

/**
 * The JSON of the operator inspection routes (api/routes/operator-inspection.ts) for the OpenAPI
 * document: common/inspection/inspection.ts and stuck.ts as schemas. A part that could not be
 * read is `{ unreadable: "<why>" }` in place of its value.
 */
const timestamp = z.string().datetime({ offset: true });
const readout = <T extends z.ZodType>(schema: T) => z.union([schema, z.strictObject({ unreadable: z.string() })]);
const failure = z.strictObject({ type: z.string().nullable(), message: z.string() });

const workflow = z.strictObject({
  workflowId: z.string(),
  runId: z.string(),
  status: z.string(),
  startedAt: timestamp,
  closedAt: timestamp.nullable(),
  searchAttributeStatus: z.string().nullable(),
  pendingWorkflowTask: z.strictObject({ state: z.string(), scheduledAt: timestamp.nullable(), attempt: z.number().int() }).nullable(),
  pendingActivities: z.array(z.strictObject({
    activityType: z.string(), state: z.string(), attempt: z.number().int(), maximumAttempts: z.number().int().nullable(),
    scheduledAt: timestamp.nullable(), lastStartedAt: timestamp.nullable(), nextAttemptAt: timestamp.nullable(), lastFailure: failure.nullable(),
  })),
  timers: z.array(z.strictObject({ timerId: z.string(), firesAt: timestamp })),
  termination: z.strictObject({ reason: z.string(), identity: z.string() }).nullable(),
  failure: failure.nullable(),
  // The workflow's `status` query answer (common/order/workflow-contract.ts, OrderSagaState): it may gain fields.
  liveState: readout(z.looseObject({ orderId: z.string(), status: z.string(), currentStep: z.string().nullable(), completedSteps: z.array(z.string()) })),
});

export const orderInspection = z.strictObject({
  orderId: z.uuid(),
  inspectedAt: timestamp,
  order: z.strictObject({
    status: z.string(), clientId: z.string(), customerId: z.string(), totalCents: z.number().int(), currency: z.string(),
    cancelReasonCode: z.string().nullable(), pendingUndos: z.array(z.string()), correlationId: z.string(), createdAt: timestamp, updatedAt: timestamp,
  }).nullable(),
  transitions: z.array(z.strictObject({ event: z.string(), at: timestamp })),
  outbox: z.array(z.strictObject({
    eventId: z.uuid(), type: z.string(), sequence: z.string(), occurredAt: timestamp, publishedAt: timestamp.nullable(), lagSeconds: z.number().int(),
  })),
  inboxes: z.array(z.strictObject({ consumer: z.string(), eventId: z.uuid(), type: z.string(), handled: z.boolean(), handledAt: timestamp.nullable() })),
  emails: z.array(z.strictObject({ eventId: z.uuid(), subject: z.string(), status: z.string(), attempts: z.number().int(), sentAt: timestamp })),
  workflow: readout(workflow.nullable()),
  stream: readout(z.strictObject({
    stream: z.string(),
    messages: z.array(z.strictObject({
      eventId: z.uuid(), type: z.string(), streamSeq: z.number().int(), publishedAt: timestamp, acknowledgedBy: z.record(z.string(), z.boolean()),
    })),
    notFound: z.array(z.string()),
  })),
  deadLetters: readout(z.array(z.strictObject({
    seq: z.number().int(), consumer: z.string(), eventType: z.string(), failedAt: timestamp, deliveries: z.number().int(), reason: z.string(),
  }))),
  payment: readout(z.strictObject({
    paymentId: z.string(), status: z.string(), amountCents: z.number().int(), currency: z.string(),
    operations: z.array(z.strictObject({ kind: z.string(), outcome: z.string(), at: z.string() })),
  }).nullable()),
  inventory: readout(z.strictObject({ status: z.string(), lines: z.array(z.strictObject({ sku: z.string(), quantity: z.number().int() })) }).nullable()),
  diagnosis: z.strictObject({ rule: z.string(), text: z.string() }),
});

export const stuckOrders = z.strictObject({
  olderThan: z.string(),
  stuck: z.array(z.strictObject({
    orderId: z.uuid(), status: z.string(), ageSeconds: z.number().int(), why: z.string(), diagnosis: z.string(),
    inspectionUrl: z.string(), temporalUiUrl: z.string(),
  })),
});
