/**
 * Workflow interceptors (they run inside the workflow sandbox; listed in
 * workers/workflow-bundle.ts): every activity and local activity an order workflow schedules
 * carries the order's correlation id in a Temporal header (TEMPORAL_CORRELATION_HEADER), where
 * common/correlation-activity-interceptor.ts picks it up for the activity's log lines and peer
 * calls. The id comes from the workflow's input (OrderWorkflowInput.correlationId).
 *
 * Headers are not commands: histories recorded without this interceptor replay unchanged.
 */
import { defaultPayloadConverter } from '@temporalio/common';
import type {
  ActivityInput, LocalActivityInput, Next, WorkflowExecuteInput, WorkflowInboundCallsInterceptor,
  WorkflowInterceptors, WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';
import { isCorrelationId, TEMPORAL_CORRELATION_HEADER } from './correlation';

/** The correlation id of a workflow input, when it has a valid one. */
export function correlationIdOfInput(args: readonly unknown[]): string | undefined {
  const id = (args[0] as { correlationId?: unknown } | undefined)?.correlationId;
  return isCorrelationId(id) ? id : undefined;
}

export const interceptors = (): WorkflowInterceptors => {
  // One set of interceptors per workflow run: this is that run's id.
  let correlationId: string | undefined;
  const withHeader = <T extends ActivityInput | LocalActivityInput>(input: T): T =>
    correlationId === undefined ? input
      : { ...input, headers: { ...input.headers, [TEMPORAL_CORRELATION_HEADER]: defaultPayloadConverter.toPayload(correlationId) } };
  const inbound: WorkflowInboundCallsInterceptor = {
    execute(input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, 'execute'>) {
      correlationId = correlationIdOfInput(input.args);
      return next(input);
    },
  };
  const outbound: WorkflowOutboundCallsInterceptor = {
    scheduleActivity: (input, next) => next(withHeader(input)),
    scheduleLocalActivity: (input, next) => next(withHeader(input)),
    getLogAttributes: (input, next) => next(correlationId === undefined ? input : { ...input, correlationId }),
  };
  return { inbound: [inbound], outbound: [outbound] };
};
