import type { RequestHandler, Response } from 'express';
import { problem } from '../common/http';
import type { Logger } from '../common/logger';
import type { Queryable } from '../common/pg';
import { scopesOf, touchApiKey, verifyApiKeyOnPool, type Scope } from './api-keys';

export type { Scope } from './api-keys';

/**
 * Who calls the API: every route but the health checks and the payment provider's webhook (which
 * is signed, see routes/payment-webhooks.ts) needs `Authorization: Bearer <api key>`. Missing,
 * unknown and revoked keys get 401 with `WWW-Authenticate: Bearer` (RFC 6750); a key without the
 * scope a route needs gets 403. Keys are made with `npm run ops -- apikey create` (api/api-keys.ts).
 */
export interface AuthenticatedClient {
  clientId: string;
  keyId: string;
  scopes: Scope[];
}

const REALM = 'Bearer realm="order-orchestrator"';
const BEARER = /^Bearer ([\x21-\x7e]+)$/i;

/** The client authenticate() found for this request; throws if the route was mounted before it (a bug). */
export function authenticatedClient(res: Response): AuthenticatedClient {
  const client = res.locals.client as AuthenticatedClient | undefined;
  if (!client) throw new Error('authenticatedClient() called on a route that authenticate() does not guard');
  return client;
}

export function isOperator(res: Response): boolean {
  return authenticatedClient(res).scopes.includes('operator');
}

/** How often this process records a key's use (the database also keeps it to once a minute). */
const TOUCH_EVERY_MS = 60_000;

/** `pool`: the API's node-postgres pool (every request's key is checked there). */
export function authenticate({ pool, logger }: { pool: Queryable; logger: Logger }): RequestHandler {
  const lastTouched = new Map<string, number>();
  const touch = (keyId: string) => {
    const now = Date.now();
    if (now - (lastTouched.get(keyId) ?? 0) < TOUCH_EVERY_MS) return;
    lastTouched.set(keyId, now);
    touchApiKey(pool, keyId).catch((err: unknown) => logger.warn({ err, keyId }, 'could not record the API key\'s last use'));
  };
  return async (req, res, next) => {
    if (res.locals.client) return next(); // already authenticated by an earlier step (the codec server's session cookie)
    const header = req.get('authorization');
    if (header === undefined) {
      res.set('www-authenticate', REALM);
      return next(problem(401, 'unauthenticated', 'Authentication required',
        'Send your API key as "Authorization: Bearer <key>". Keys are issued by the shop platform\'s operators.'));
    }
    const key = BEARER.exec(header)?.[1];
    let verified;
    try {
      verified = key === undefined ? undefined : await verifyApiKeyOnPool(pool, key);
    } catch (err) {
      logger.error({ err }, 'could not check an API key');
      res.set('retry-after', '5');
      return next(problem(503, 'authentication-unavailable', 'Authentication unavailable',
        'API keys could not be checked just now; nothing was done. Retry shortly.'));
    }
    if (!verified) {
      res.set('www-authenticate', `${REALM}, error="invalid_token"`);
      return next(problem(401, 'invalid-api-key', 'Invalid API key',
        'The API key is unknown, malformed or revoked. Use a current key as "Authorization: Bearer <key>".'));
    }
    res.locals.client = { clientId: verified.clientId, keyId: verified.keyId, scopes: scopesOf(verified.scope) } satisfies AuthenticatedClient;
    touch(verified.keyId);
    next();
  };
}

export function requireScope(scope: Scope): RequestHandler {
  return (_req, res, next) => {
    if (authenticatedClient(res).scopes.includes(scope)) return next();
    next(problem(403, 'forbidden', 'Not allowed for this API key', `This route needs an API key with the "${scope}" scope.`));
  };
}
