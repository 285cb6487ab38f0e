import { isSpanContextValid, trace } from '@opentelemetry/api';
import pino from 'pino';
import { correlationLogFields } from './correlation-context';

export type Logger = pino.Logger;

/**
 * Fields whose values are personal data or secrets: never written to a log, at whatever depth
 * (up to REDACTED_DEPTH levels down) they appear, e.g. `input.customerEmail`,
 * `order.payment.token`, `req.headers.authorization`. Their values show as `[Redacted]`.
 */
export const REDACTED_KEYS = [
  'customerEmail', 'email', 'token', 'paymentToken', 'cardToken', 'card',
  'authorization', 'cookie', 'set-cookie', 'x-api-key', 'apiKey', 'payment-signature',
  'password', 'secret',
] as const;

/** How many levels below the log line's top level a redacted key is still found. */
export const REDACTED_DEPTH = 4;

export const REDACTED = '[Redacted]';

/** pino redaction paths for REDACTED_KEYS at every depth from 0 to REDACTED_DEPTH. */
export function redactionPaths(keys: readonly string[] = REDACTED_KEYS, depth = REDACTED_DEPTH): string[] {
  return keys.flatMap((key) => {
    const access = /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `["${key}"]`;
    return Array.from({ length: depth + 1 }, (_, level) => level === 0 ? access.replace(/^\./, '') : `${'*.'.repeat(level).slice(0, -1)}${access}`);
  });
}

/**
 * What every line written inside a piece of work about an order gets: its correlationId and
 * orderId (common/correlation-context.ts) and the active span's traceId and spanId, so a line
 * leads to its trace. Fields a child logger already binds (the access log binds correlationId)
 * are left to it, so no line has a key twice.
 */
export function contextLogFields(_merge: object, _level: number, logger: pino.Logger): Record<string, string> {
  const fields: Record<string, string> = { ...correlationLogFields() };
  const span = trace.getActiveSpan()?.spanContext();
  if (span && isSpanContextValid(span)) {
    fields.traceId = span.traceId;
    fields.spanId = span.spanId;
  }
  if (fields.correlationId === undefined && fields.orderId === undefined) return fields;
  const bound = logger.bindings();
  for (const key of Object.keys(fields)) if (key in bound) delete fields[key];
  return fields;
}

/** Options of every logger of ours: the process's name in every line, level from LOG_LEVEL, redaction, context fields. */
export function loggerOptions(service: string): pino.LoggerOptions {
  return {
    name: service,
    level: process.env.LOG_LEVEL ?? 'info',
    redact: { paths: redactionPaths(), censor: REDACTED },
    mixin: contextLogFields,
  };
}

/**
 * One structured JSON logger per process (common/run-process.ts creates it for every entry
 * point); `service` names the process in every line. `destination` is for tests.
 */
export function createLogger(service: string, destination?: pino.DestinationStream): Logger {
  return destination ? pino(loggerOptions(service), destination) : pino(loggerOptions(service));
}
