import { defaultPayloadConverter } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { isCorrelationId, TEMPORAL_CORRELATION_HEADER } from './correlation';
import { withCorrelation, type CorrelationContext } from './correlation-context';
import type { Logger } from './logger';

/**
 * Activity interceptor of the worker: each activity (and local activity) runs inside its order's
 * correlation (common/correlation-context.ts), from the header the workflow interceptor
 * (common/correlation-workflow-interceptors.ts) put on it and the order id of its input. So every
 * line it logs, the SDK's own activity lines and every peer call it makes carry correlationId and
 * orderId; and it logs one line when it completes.
 */
export function correlationActivityInterceptor(logger: Logger): ActivityInterceptorsFactory {
  return (ctx) => {
    let correlation: CorrelationContext = {};
    return {
      inbound: {
        async execute(input, next) {
          correlation = { correlationId: correlationIdOfHeaders(input.headers), orderId: orderIdOfActivityInput(input.args) };
          return withCorrelation(correlation, async () => {
            const { activityType, attempt, isLocal } = ctx.info;
            const started = Date.now();
            const result = await next(input);
            logger.info({ activityType, attempt, ...(isLocal ? { local: true } : {}), durationMs: Date.now() - started }, 'activity completed');
            return result;
          });
        },
      },
      outbound: {
        getLogAttributes: (attributes, next) => next({ ...attributes, ...definedFields(correlation) }),
      },
    };
  };
}

function correlationIdOfHeaders(headers: Record<string, unknown>): string | undefined {
  const payload = headers[TEMPORAL_CORRELATION_HEADER];
  if (payload === undefined) return undefined;
  try {
    const id = defaultPayloadConverter.fromPayload(payload as Parameters<typeof defaultPayloadConverter.fromPayload>[0]);
    return isCorrelationId(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

/** The order an activity is about: `orderId` of its input, or of its input's `order` (recordOrderPlaced) or `step` (activities/recorded-steps.ts). */
export function orderIdOfActivityInput(args: readonly unknown[]): string | undefined {
  const first = args[0] as { orderId?: unknown; order?: { orderId?: unknown }; step?: { orderId?: unknown } } | undefined;
  const id = first?.orderId ?? first?.order?.orderId ?? first?.step?.orderId;
  return typeof id === 'string' ? id : undefined;
}

function definedFields(context: CorrelationContext): Record<string, string> {
  return Object.fromEntries(Object.entries(context).filter(([, v]) => v !== undefined)) as Record<string, string>;
}
