import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import { ZodError } from 'zod';
import type { Logger } from './logger';

/** RFC 9457 problem details. `type` is a URI naming the kind of problem; clients branch on it. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  [extension: string]: unknown;
}

export const PROBLEM_BASE = 'https://problems.order-orchestrator.dev/';

export class HttpProblem extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail ?? problem.title);
  }
}

export function problem(status: number, slug: string, title: string, detail?: string, extensions: Record<string, unknown> = {}): HttpProblem {
  return new HttpProblem({ type: PROBLEM_BASE + slug, title, status, ...(detail ? { detail } : {}), ...extensions });
}

export const malformedJsonProblem = (): HttpProblem =>
  problem(400, 'malformed-json', 'Malformed JSON', 'The request body is not valid JSON.');

export function sendProblem(res: Response, p: Problem): void {
  res.status(p.status).type('application/problem+json').send(JSON.stringify(p));
}

/** Turns zod validation errors into a 400 problem that lists each offending field. */
export function validationProblem(err: ZodError, what = 'request body'): HttpProblem {
  return problem(400, 'validation-error', 'Invalid request', `The ${what} is not valid; see "errors" for each field.`, {
    errors: err.issues.map((issue) => ({ path: issue.path.join('.') || '(root)', message: issue.message })),
  });
}

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(problem(404, 'not-found', 'Not found', `No route for ${req.method} ${req.path}`));
};

const REFUSALS: Record<number, string> = { 400: 'Bad request', 403: 'Forbidden', 411: 'Length required', 415: 'Unsupported media type' };

/**
 * Last middleware of every express app: everything leaves as problem+json. Only our own problems
 * (HttpProblem) and validation messages about the request reach the client; anything else is
 * logged and answered without its message, so no stack, SQL, driver or peer text leaks.
 */
export function problemErrorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    if (err instanceof HttpProblem) return sendProblem(res, { ...err.problem, instance: req.originalUrl });
    if (err instanceof ZodError) return sendProblem(res, { ...validationProblem(err).problem, instance: req.originalUrl });
    const bodyError = err as { type?: string; status?: number; message?: string };
    if (bodyError?.type === 'entity.parse.failed') {
      return sendProblem(res, { ...malformedJsonProblem().problem, instance: req.originalUrl });
    }
    if (bodyError?.type === 'entity.too.large') {
      return sendProblem(res, { type: PROBLEM_BASE + 'payload-too-large', title: 'Payload too large', status: 413, instance: req.originalUrl });
    }
    // Other refusals of express and its body parser (http-errors marked `expose`: unsupported
    // charset or encoding, ...; the router's URIError for a path parameter that does not decode)
    // are the request's fault: keep their 4xx, in our own words. Any other error's `status` (a
    // peer's answer, say) is not the client's business.
    const refusal = err as { status?: unknown; expose?: unknown } | null;
    const status = refusal?.status;
    if ((refusal?.expose === true || err instanceof URIError) && typeof status === 'number' && status >= 400 && status < 500) {
      logger.debug({ err, path: req.path }, 'request refused'); // the path only: a query string may hold personal data
      return sendProblem(res, {
        type: PROBLEM_BASE + 'bad-request', title: REFUSALS[status] ?? 'Bad request', status,
        detail: 'The request could not be read as sent; check its headers, encoding and path.', instance: req.originalUrl,
      });
    }
    logger.error({ err, path: req.path }, 'unhandled error');
    sendProblem(res, { type: PROBLEM_BASE + 'internal', title: 'Internal error', status: 500, detail: 'The request failed unexpectedly; it is safe to retry with the same Idempotency-Key.', instance: req.originalUrl });
  };
}

/** Wraps a server's close() as a promise. */
export function closeServer(server: { close(cb: (err?: Error) => void): void; closeAllConnections?: () => void }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((err) => (err ? reject(err) : resolve()));
    server.closeAllConnections?.();
  });
}
