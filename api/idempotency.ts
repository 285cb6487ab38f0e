import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Db } from '../common/db';
import { problem } from '../common/http';
import {
  IDEMPOTENT_REPLAYED_HEADER, IdempotencyKeyInUse, isValidIdempotencyKey, requestFingerprint, runWithIdempotencyKey,
  type IdempotencyStore, type KeptAnswer,
} from '../common/idempotency-key';
import type { Logger } from '../common/logger';
import { authenticatedClient } from './auth';

/**
 * `Idempotency-Key` for our mutating REST calls, by the rules of common/idempotency-key.ts:
 * the header is optional (without it a request is simply not de-duplicated); a replay carries
 * `Idempotent-Replayed: true`; a duplicate that arrives while the first is still being processed
 * is 409. Keys are scoped per authenticated client (api/auth.ts) and kept for
 * IDEMPOTENCY_KEY_TTL (24 h by default).
 *
 * A key without an answer is held for IN_PROGRESS_LEASE_MS only: if the process that claimed it
 * died, or its answer could not be saved, the key is free again after that, not after the TTL.
 * Running a request twice under one key is safe for our routes: an order's id and a cancel's
 * update id are derived from the key (api/order-id.ts), so the second run finds the first one's work.
 */
const REPLAYED_HEADERS = ['location', 'content-type', 'x-correlation-id'];

/**
 * Longer than a request of ours normally takes (each wait on a peer, Postgres or Temporal has its
 * own timeout), short enough that a client retrying after a crashed API is not stuck for long.
 * A request that outlives it and runs twice is still safe (see above).
 */
export const IN_PROGRESS_LEASE_MS = 30_000;

/** A keyed request as the routes see it (res.locals.idempotency): who sent it, under which key, and its fingerprint. */
export interface KeyedRequestInfo {
  clientId: string;
  key: string;
  requestHash: string;
}

/** The key and client of this request, when it came with an Idempotency-Key. */
export function keyedRequestOf(res: Response): KeyedRequestInfo | undefined {
  return res.locals.idempotency as KeyedRequestInfo | undefined;
}

interface ApiClaim {
  clientId: string;
  key: string;
}

/**
 * The API's keys, in `api_idempotency_keys`: a claim is a row without an answer yet, and a key
 * whose row has expired, or whose claim is older than the lease without an answer, can be claimed
 * again. Duplicates do not wait for the first: they see its row without an answer.
 */
function apiKeyStore(db: Db, ttlMs: number, clientId: string, logger: Logger): IdempotencyStore<ApiClaim> {
  const release = async (claim: ApiClaim) => {
    await db.apiIdempotencyKey.deleteMany({ where: { ...claim, statusCode: null } });
  };
  return {
    async claim({ key, operation, requestHash }) {
      const claimed = await db.$executeRaw`
        INSERT INTO api_idempotency_keys (client_id, key, operation, request_hash, expires_at)
        VALUES (${clientId}, ${key}, ${operation}, ${requestHash}, now() + ${ttlMs} * interval '1 millisecond')
        ON CONFLICT (client_id, key) DO UPDATE SET
          operation = EXCLUDED.operation, request_hash = EXCLUDED.request_hash, status_code = NULL,
          response_headers = NULL, response_body = NULL, created_at = now(), expires_at = EXCLUDED.expires_at
        WHERE api_idempotency_keys.expires_at < now()
           OR (api_idempotency_keys.status_code IS NULL
               AND api_idempotency_keys.created_at < now() - ${IN_PROGRESS_LEASE_MS} * interval '1 millisecond')`;
      if (claimed > 0) return { claim: { clientId, key } };
      const first = await db.apiIdempotencyKey.findUnique({ where: { clientId_key: { clientId, key } } });
      return {
        holder: first && {
          operation: first.operation,
          requestHash: first.requestHash,
          ...(first.statusCode === null ? {} : {
            answer: { status: first.statusCode, headers: (first.responseHeaders ?? {}) as Record<string, string>, body: first.responseBody },
          }),
        },
      };
    },
    /**
     * The work has happened whether or not its answer can be saved, so a failure here does not
     * fail the request: the key is released instead (a retry then does the work again, which finds
     * the first run's order or update), or, if even that fails, its lease runs out.
     */
    async keep(claim, answer) {
      try {
        await db.apiIdempotencyKey.update({
          where: { clientId_key: claim },
          data: { statusCode: answer.status, responseHeaders: answer.headers, responseBody: answer.body as object, expiresAt: new Date(Date.now() + ttlMs) },
        });
      } catch (err) {
        logger.error({ err, clientId: claim.clientId }, 'could not save the answer under its Idempotency-Key; releasing the key');
        await release(claim).catch((releaseErr: unknown) =>
          logger.error({ err: releaseErr, clientId: claim.clientId }, `could not release the key either; it is free again after ${IN_PROGRESS_LEASE_MS} ms`));
      }
    },
    release,
  };
}

/** The answer as it is about to be sent: its status, the headers worth replaying, and its body as JSON (or text). */
function answerOf(res: Response, body: unknown): KeptAnswer {
  const headers = Object.fromEntries(REPLAYED_HEADERS.map((h) => [h, res.get(h)]).filter(([, v]) => v !== undefined));
  const text = Buffer.isBuffer(body) ? body.toString('utf8') : typeof body === 'string' ? body : JSON.stringify(body);
  let json: unknown = text;
  try { json = JSON.parse(text); } catch { /* keep as text */ }
  return { status: res.statusCode, headers, body: json };
}

export function idempotency(db: Db, ttlMs: number, logger: Logger): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const key = req.get('idempotency-key');
    if (key === undefined) return next();
    if (!isValidIdempotencyKey(key)) {
      return next(problem(400, 'invalid-idempotency-key', 'Invalid Idempotency-Key', 'Use 1-255 visible ASCII characters, unique per intended operation (a UUID is a good choice).'));
    }
    // Scoped by the authenticated client: another client's identical key is another request.
    const { clientId } = authenticatedClient(res);
    const request = {
      key,
      operation: `${req.method} ${req.route?.path ?? req.path}`,
      requestHash: requestFingerprint(`${req.method} ${req.baseUrl}${req.path}`, req.body, '\n'),
    };
    res.locals.idempotency = { clientId, key, requestHash: request.requestHash } satisfies KeyedRequestInfo;

    // The work is the rest of the chain, up to its answer: kept before it leaves, so a retry that arrives right after gets it.
    const send = res.send.bind(res);
    let answered = false;
    let firstBody: unknown;
    const work = () => new Promise<KeptAnswer>((resolve) => {
      res.send = ((body: unknown) => {
        if (answered) return send(body);
        answered = true;
        firstBody = body;
        resolve(answerOf(res, body));
        return res;
      }) as Response['send'];
      next();
    });

    let outcome;
    try {
      outcome = await runWithIdempotencyKey(apiKeyStore(db, ttlMs, clientId, logger), request, work,
        () => 'This key was first used with another request; use a new key for a new operation.');
    } catch (err) {
      if (!answered) {
        if (err instanceof IdempotencyKeyInUse && err.retryAfterSeconds) res.set('retry-after', String(err.retryAfterSeconds));
        return next(err);
      }
      // The answer exists (the work is done) but its key could not be let go after a 5xx: the
      // lease frees it. The client gets the answer, never this error's text.
      logger.error({ err, clientId }, 'could not release an Idempotency-Key');
      return send(firstBody);
    }
    if (!outcome.replayed) return send(firstBody);
    const { status, headers = {}, body } = outcome.answer;
    for (const [name, value] of Object.entries(headers)) res.set(name, value);
    res.set(IDEMPOTENT_REPLAYED_HEADER, 'true').status(status);
    return typeof body === 'string' ? res.send(body) : res.send(JSON.stringify(body));
  };
}

/** Removes expired keys; the API runs it on a timer. */
export async function purgeExpiredIdempotencyKeys(db: Db): Promise<number> {
  const { count } = await db.apiIdempotencyKey.deleteMany({ where: { expiresAt: { lt: new Date() } } });
  return count;
}
