import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { correlationLogFields } from '../../common/correlation-context';
import { problem } from '../../common/http';
import type { Logger } from '../../common/logger';

/** The caller a request was authenticated as (res.locals.caller). */
export interface AuthenticatedCaller {
  caller: string;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Requires `Authorization: Bearer <token>` with the token of one of the service's callers (a
 * shared secret per caller: INVENTORY_CALLER_TOKENS / PAYMENT_CALLER_TOKENS). Tokens are compared
 * as sha256 digests with timingSafeEqual, every caller's each time, so the answer's timing tells
 * nothing about how much of a token was right. Each call is logged with the caller's name.
 */
export function callerAuthentication(serviceName: string, callers: ReadonlyMap<string, string>, logger: Logger): RequestHandler {
  const known = [...callers].map(([caller, token]) => ({ caller, digest: digest(token) }));
  if (known.length === 0) throw new Error(`the ${serviceName} service needs at least one caller token`);
  return (req, res, next) => {
    const match = /^Bearer ([^\s]+)$/i.exec(req.get('authorization') ?? '');
    const presented = match ? digest(match[1]!) : undefined;
    let caller: string | undefined;
    for (const entry of known) {
      if (presented && timingSafeEqual(presented, entry.digest)) caller = entry.caller;
    }
    if (!caller) {
      res.setHeader('WWW-Authenticate', `Bearer realm="${serviceName}"`);
      logger.warn({ method: req.method, path: req.path, credential: match ? 'unknown token' : 'none' }, 'call refused: no valid caller token');
      throw problem(401, 'unauthenticated', 'Caller token required',
        `Every ${serviceName} call but /healthz, /readyz and /openapi.json needs "Authorization: Bearer <token>" with the token configured for the calling service.`);
    }
    (res.locals as AuthenticatedCaller).caller = caller;
    // Taken now: the answer's 'finish' may run outside the request's context.
    const correlation = correlationLogFields();
    res.on('finish', () => logger.info({ ...correlation, caller, method: req.method, path: req.originalUrl, status: res.statusCode }, `${serviceName} call`));
    next();
  };
}
