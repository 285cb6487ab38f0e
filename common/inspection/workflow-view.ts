import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { LoadedDataConverter } from '@temporalio/common';
import { decodeOptionalFailureToOptionalError } from '@temporalio/common/lib/internal-non-workflow';
import { optionalTsToMs, tsToMs } from '@temporalio/common/lib/time';
import { temporal as proto } from '@temporalio/proto';
import { orderStatusQuery, orderWorkflowId } from '../order/workflow-contract';
import { OrderStatusAttribute } from '../search-attributes';
import type { PendingActivityView, Readout, TimerView, WorkflowView } from './inspection';

/**
 * The order's workflow as Temporal knows it: describeWorkflowExecution (status, pending workflow
 * task, pending activities with attempts and last failure), the history (timers still pending,
 * who terminated it, why it failed) and the live `status` query. Failures are encrypted by our
 * codec: they are decoded through the client's data converter (common/temporal-connection.ts).
 * Null when Temporal has no such workflow.
 */

type Failure = proto.api.failure.v1.IFailure;
type Timestamp = Parameters<typeof tsToMs>[0];

const isoOf = (ts: Timestamp | null | undefined): string | null => {
  const ms = optionalTsToMs(ts);
  return ms === undefined ? null : new Date(ms).toISOString();
};

/** `PENDING_ACTIVITY_STATE_SCHEDULED` → `SCHEDULED`. */
function enumName(names: Record<number, string>, value: number | null | undefined, prefix: string): string {
  return (names[value ?? 0] ?? 'UNSPECIFIED').replace(prefix, '');
}

async function decodeFailure(converter: LoadedDataConverter, failure: Failure | null | undefined): Promise<{ type: string | null; message: string } | null> {
  if (!failure) return null;
  try {
    const error = await decodeOptionalFailureToOptionalError(converter, failure);
    if (!error) return null;
    // An activity's failure arrives wrapped (ActivityFailure); the cause is what the activity threw.
    const inner = (error.cause as Error | undefined) ?? error;
    return { type: (inner as { type?: string }).type ?? inner.name ?? null, message: inner.message };
  } catch (err) {
    return { type: null, message: `(could not decode the failure: ${(err as Error).message})` };
  }
}

function pendingTimers(events: proto.api.history.v1.IHistoryEvent[]): TimerView[] {
  const started = new Map<string, string>();
  for (const event of events) {
    const timer = event.timerStartedEventAttributes;
    if (timer?.timerId) {
      const firesAt = tsToMs(event.eventTime) + Number(timer.startToFireTimeout?.seconds ?? 0) * 1000 + Math.round((timer.startToFireTimeout?.nanos ?? 0) / 1e6);
      started.set(timer.timerId, new Date(firesAt).toISOString());
    }
    const ended = event.timerFiredEventAttributes?.timerId ?? event.timerCanceledEventAttributes?.timerId;
    if (ended) started.delete(ended);
  }
  return [...started].map(([timerId, firesAt]) => ({ timerId, firesAt }));
}

export interface WorkflowReadOptions {
  /** Deadline of each call (TEMPORAL_CALL_TIMEOUT). */
  callTimeoutMs: number;
  /** Deadline of the status query, shorter: without a worker it would wait the whole call deadline. */
  queryTimeoutMs: number;
}

export async function readWorkflow(temporal: Client, orderId: string, opts: WorkflowReadOptions): Promise<Readout<WorkflowView | null>> {
  const handle = temporal.workflow.getHandle(orderWorkflowId(orderId));
  const within = <T>(ms: number, call: () => Promise<T>) => temporal.withDeadline(Date.now() + ms, call);
  const converter = temporal.workflow.options.loadedDataConverter;
  let description;
  let history;
  try {
    description = await within(opts.callTimeoutMs, () => handle.describe());
    history = await within(opts.callTimeoutMs, () => handle.fetchHistory());
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    return { unreadable: `Temporal: ${(err as Error).message}` };
  }
  const raw = description.raw;
  const events = history.events ?? [];
  const status = description.status.name;
  const terminated = events.find((e) => e.workflowExecutionTerminatedEventAttributes)?.workflowExecutionTerminatedEventAttributes;
  const failed = events.find((e) => e.workflowExecutionFailedEventAttributes)?.workflowExecutionFailedEventAttributes;
  const task = raw.pendingWorkflowTask;
  const pendingActivities: PendingActivityView[] = await Promise.all((raw.pendingActivities ?? []).map(async (a) => ({
    activityType: a.activityType?.name ?? '?',
    state: enumName(proto.api.enums.v1.PendingActivityState, a.state, 'PENDING_ACTIVITY_STATE_'),
    attempt: a.attempt ?? 1,
    maximumAttempts: a.maximumAttempts ? a.maximumAttempts : null,
    scheduledAt: isoOf(a.scheduledTime),
    lastStartedAt: isoOf(a.lastStartedTime),
    nextAttemptAt: isoOf(a.nextAttemptScheduleTime),
    lastFailure: await decodeFailure(converter, a.lastFailure),
  })));
  let liveState: WorkflowView['liveState'] = { unreadable: `not asked: the workflow is ${status}` };
  if (status === 'RUNNING') {
    liveState = await within(opts.queryTimeoutMs, () => handle.query(orderStatusQuery)).catch((err: unknown) => ({
      unreadable: `status query failed (no worker polling the task queue?): ${(err as Error).message}`,
    }));
  }
  return {
    workflowId: description.workflowId,
    runId: description.runId,
    status,
    startedAt: description.startTime.toISOString(),
    closedAt: description.closeTime?.toISOString() ?? null,
    searchAttributeStatus: description.typedSearchAttributes.get(OrderStatusAttribute) ?? null,
    pendingWorkflowTask: task ? {
      state: enumName(proto.api.enums.v1.PendingWorkflowTaskState, task.state, 'PENDING_WORKFLOW_TASK_STATE_'),
      scheduledAt: isoOf(task.scheduledTime), attempt: task.attempt ?? 1,
    } : null,
    pendingActivities,
    timers: status === 'RUNNING' ? pendingTimers(events) : [],
    termination: terminated ? { reason: terminated.reason ?? '', identity: terminated.identity ?? '' } : null,
    failure: failed ? await decodeFailure(converter, failed.failure) : null,
    liveState,
  };
}
