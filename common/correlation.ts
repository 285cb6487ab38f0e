/**
 * The correlation id: one id per request that placed (or acted on) an order, in every log line,
 * peer call, Temporal header and event about it. Pure (no Node APIs): the workflow sandbox
 * imports it too. The id's current value within a process is common/correlation-context.ts.
 */

/** HTTP header (API requests and answers, peer calls) and NATS message header carrying the id. */
export const CORRELATION_ID_HEADER = 'X-Correlation-Id';
/** W3C Trace Context header; its trace id is the correlation id when no X-Correlation-Id is given. */
export const TRACEPARENT_HEADER = 'traceparent';
/** Temporal header (workflow → activities) carrying the id. */
export const TEMPORAL_CORRELATION_HEADER = 'correlation-id';

/** A correlation id we accept from a client: 1-128 of letters, digits and ._:- */
export const CORRELATION_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

export function isCorrelationId(value: unknown): value is string {
  return typeof value === 'string' && CORRELATION_ID_PATTERN.test(value);
}

export interface Traceparent {
  traceId: string;
  spanId: string;
  sampled: boolean;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/**
 * A W3C `traceparent` (https://www.w3.org/TR/trace-context/#traceparent-header), or undefined
 * when it is not a valid one: version ff, all-zero ids, upper case hex and, for version 00,
 * anything after the flags are invalid.
 */
export function parseTraceparent(value: unknown): Traceparent | undefined {
  if (typeof value !== 'string') return undefined;
  const m = TRACEPARENT.exec(value.trim());
  if (!m) return undefined;
  const [, version, traceId, spanId, flags, rest] = m as unknown as [string, string, string, string, string, string | undefined];
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined;
  return { traceId, spanId, sampled: (parseInt(flags, 16) & 1) === 1 };
}

type HeaderValue = string | string[] | undefined;
const first = (v: HeaderValue) => (Array.isArray(v) ? v[0] : v);

/**
 * The correlation id a request names: its valid X-Correlation-Id, else the trace id of its valid
 * traceparent, else undefined (the caller makes a new one). `headers` as Node gives them
 * (lower-case names).
 */
export function correlationIdFromHeaders(headers: Record<string, HeaderValue>): string | undefined {
  const given = first(headers[CORRELATION_ID_HEADER.toLowerCase()]);
  if (isCorrelationId(given)) return given;
  return parseTraceparent(first(headers[TRACEPARENT_HEADER]))?.traceId;
}
