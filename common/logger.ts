import { isSpanContextValid, trace } from '@opentelemetry/api';
import pino from 'pino';
import { correlationLogFields } from './correlation-context';
import { redactLogFields } from './log-redaction';

export type Logger = pino.Logger;

const CONTEXT_FIELDS = ['correlationId', 'orderId', 'traceId', 'spanId'] as const;

/**
 * What every line written inside a piece of work about an order gets: its correlationId and
 * orderId (common/correlation-context.ts) and the active span's traceId and spanId, so a line
 * leads to its trace. Fields a child logger already binds (the access log binds correlationId)
 * are left to it, so no line has a key twice.
 */
export function contextLogFields(_merge: object, _level: number, logger: pino.Logger): Record<string, string> {
  const fields: Record<string, string> = correlationLogFields() as Record<string, string>;
  const span = trace.getActiveSpan()?.spanContext();
  if (span && isSpanContextValid(span)) {
    fields.traceId = span.traceId;
    fields.spanId = span.spanId;
  }
  if (fields.correlationId === undefined && fields.orderId === undefined) return fields;
  // logger.bindings() parses the logger's bindings on every call: only when they may hold one of these keys.
  const boundText = (logger as unknown as Record<symbol, string>)[pino.symbols.chindingsSym] ?? '';
  if (!CONTEXT_FIELDS.some((key) => boundText.includes(`"${key}":`))) return fields;
  const bound = logger.bindings();
  for (const key of Object.keys(fields)) if (key in bound) delete fields[key];
  return fields;
}

/**
 * Options of every logger of ours: the process's name in every line, level from LOG_LEVEL,
 * redaction of personal data and secrets in every line's fields and every child logger's
 * bindings (common/log-redaction.ts), context fields.
 */
export function loggerOptions(service: string): pino.LoggerOptions {
  return {
    name: service,
    level: process.env.LOG_LEVEL ?? 'info',
    formatters: { log: redactLogFields },
    mixin: contextLogFields,
    hooks: { logMethod: redactInterpolatedObjects },
  };
}

/**
 * Objects interpolated into the message (`log.info('got %o', x)`, `%j`, `%O`) go through no
 * formatter: redacted here. Arguments after the message only; a call without any costs one check.
 */
function redactInterpolatedObjects(this: pino.Logger, args: Parameters<pino.LogFn>, method: pino.LogFn): void {
  const firstInterpolated = typeof args[0] === 'string' ? 1 : 2;
  if (args.length <= firstInterpolated) return method.apply(this, args);
  const redacted = args.map((arg: unknown, i) => (i >= firstInterpolated && arg !== null && typeof arg === 'object' ? redactLogFields(arg) : arg));
  return method.apply(this, redacted as Parameters<pino.LogFn>);
}

/**
 * One structured JSON logger per process (common/run-process.ts creates it for every entry
 * point); `service` names the process in every line. `destination` is for tests.
 */
export function createLogger(service: string, destination?: pino.DestinationStream): Logger {
  const logger = destination ? pino(loggerOptions(service), destination) : pino(loggerOptions(service));
  // pino runs no formatter over a child logger's bindings: they are redacted here. Children inherit
  // this `child`, so their children's bindings are too.
  type ChildFn = (this: Logger, bindings: pino.Bindings, options?: pino.ChildLoggerOptions<never>) => Logger;
  const pinoChild = logger.child as unknown as ChildFn;
  const redactedChild: ChildFn = function (bindings, options) {
    return pinoChild.call(this, redactLogFields(bindings), options);
  };
  logger.child = redactedChild as unknown as Logger['child'];
  return logger;
}
