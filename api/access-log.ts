import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, RequestHandler, Response } from 'express';
import { pinoHttp } from 'pino-http';
import { CORRELATION_ID_HEADER, correlationIdFromHeaders } from '../common/correlation';
import type { Logger } from '../common/logger';

export { CORRELATION_ID_HEADER };

/** Longest path written to the access log; a longer one is cut (it is a client's text). */
const MAX_LOGGED_PATH = 256;

type Locals = { correlationId?: string; client?: { clientId?: unknown } };
const localsOf = (res: ServerResponse): Locals => ((res as Response).locals ?? {}) as Locals;

/**
 * The request's correlation id: the client's `X-Correlation-Id` when it is a valid one (1-128 of
 * letters, digits and ._:-), else the trace id of its valid W3C `traceparent`, else a new UUID. Set by the access log for every request, answered
 * in the `X-Correlation-Id` response header, and carried into every event of an order it places.
 */
export function correlationIdOf(res: Response): string {
  const id = localsOf(res).correlationId;
  if (!id) throw new Error('correlationIdOf: the access log middleware has not run for this request');
  return id;
}

function assignCorrelationId(req: IncomingMessage, res: ServerResponse): string {
  const id = correlationIdFromHeaders(req.headers) ?? randomUUID();
  localsOf(res).correlationId = id;
  res.setHeader(CORRELATION_ID_HEADER, id);
  return id;
}

/**
 * The authenticated client, once authentication (api/auth.ts) has put it in `res.locals.client`;
 * absent for a request that was not (or not yet) authenticated.
 */
function clientIdOf(res: ServerResponse): string | undefined {
  const id = localsOf(res).client?.clientId;
  return typeof id === 'string' ? id : undefined;
}

/**
 * The path alone: query strings can carry personal data (`?customerId=`), so none of the query
 * is logged. The path holds at most ids of ours.
 */
function loggedPath(req: IncomingMessage): string {
  const url = (req as Request).originalUrl ?? req.url ?? '';
  const path = url.split('?', 1)[0]!;
  return path.length > MAX_LOGGED_PATH ? `${path.slice(0, MAX_LOGGED_PATH)}…` : path;
}

/**
 * One line per request when its answer has gone (or the client went away): correlation id,
 * method, path without query, status, duration in ms, and the client id when authenticated.
 * 5xx answers log at error level, the rest at info. Mounted first, so every answer carries
 * `X-Correlation-Id`, refusals and errors included.
 */
export function accessLog(logger: Logger): RequestHandler {
  const line = (req: IncomingMessage, res: ServerResponse, durationMs: number) => ({
    method: req.method,
    path: loggedPath(req),
    status: res.statusCode,
    durationMs,
    ...(res.writableFinished ? {} : { aborted: true }),
  });
  const middleware = pinoHttp({
    logger,
    genReqId: assignCorrelationId,
    customAttributeKeys: { reqId: 'correlationId', responseTime: 'durationMs' },
    // Only our own fields: no request or response objects with their headers.
    quietReqLogger: true,
    quietResLogger: true,
    customProps: (_req, res) => {
      const clientId = clientIdOf(res);
      return clientId ? { clientId } : {};
    },
    customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : 'info'),
    customSuccessObject: (req, res, val: { durationMs: number }) => line(req, res, val.durationMs),
    customErrorObject: (req, res, _err, val: { durationMs: number }) => line(req, res, val.durationMs),
    customSuccessMessage: () => 'request answered',
    customErrorMessage: () => 'request failed',
  });
  return middleware as unknown as RequestHandler;
}
