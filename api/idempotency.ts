import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { problem } from '../common/http';
import {
  IDEMPOTENT_REPLAYED_HEADER, IdempotencyKeyInUse, isValidIdempotencyKey, requestFingerprint, runWithIdempotencyKey,
  type IdempotencyStore, type KeptAnswer,
} from '../common/idempotency-key';
import type { Logger } from '../common/logger';
import type { Queryable } from '../common/pg';
import { authenticatedClient } from './auth';
import { KEY_REUSED_DETAIL } from './order-answers';

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
  /**
   * Whether this request's claim took the key over from an earlier request (one that was released,
   * expired, or lost its lease) rather than claiming a key never held: only then can an earlier
   * attempt have done this request's work already. Set once the key is claimed.
   */
  heldBefore?: boolean;
}

/** The key and client of this request, when it came with an Idempotency-Key. */
export function keyedRequestOf(res: Response): KeyedRequestInfo | undefined {
  return res.locals.idempotency as KeyedRequestInfo | undefined;
}

interface ApiClaim {
  clientId: string;
  key: string;
  /** True when the claim took over an existing row (see KeyedRequestInfo.heldBefore). */
  heldBefore: boolean;
  /**
   * When this claim was made (the row's created_at, as Postgres wrote it): keep and release touch the
   * row only while it is still this claim's, not a later request's that took the key over after this
   * one's lease ran out.
   */
  claimedAt: string;
}

const LEASE = `${IN_PROGRESS_LEASE_MS} * interval '1 millisecond'`;

/**
 * The API's keys, in `api_idempotency_keys`, over the API's node-postgres pool (every keyed POST
 * claims and keeps here): a claim is a row without an answer yet, and a key whose row has expired,
 * or whose claim is older than the lease without an answer, can be claimed again. Duplicates do
 * not wait for the first: they see its row without an answer.
 *
 * Release does not delete the row: it ends the claim's lease (moves created_at back past it), so
 * the key is free at once but its row, until it expires, still says the key was held. A claim
 * tells a fresh insert (`xmax = 0`) from a takeover of such a row: the orders route needs that to
 * know when an earlier attempt may have placed the order already (api/keyed-orders.ts).
 */
function apiKeyStore(pool: Queryable, ttlMs: number, clientId: string, logger: Logger): IdempotencyStore<ApiClaim> {
  const release = async (claim: ApiClaim) => {
    await pool.query({
      name: 'api-idempotency-release',
      text: `UPDATE api_idempotency_keys SET created_at = now() - ${LEASE} - interval '1 millisecond'
             WHERE client_id = $1 AND key = $2 AND status_code IS NULL AND created_at = $3::timestamptz`,
      values: [claim.clientId, claim.key, claim.claimedAt],
    });
  };
  return {
    async claim({ key, operation, requestHash }) {
      const { rows: [claimed] } = await pool.query<{ fresh: boolean; claimed_at: string }>({
        name: 'api-idempotency-claim',
        text: `INSERT INTO api_idempotency_keys (client_id, key, operation, request_hash, expires_at)
               VALUES ($1, $2, $3, $4, now() + $5::bigint * interval '1 millisecond')
               ON CONFLICT (client_id, key) DO UPDATE SET
                 operation = EXCLUDED.operation, request_hash = EXCLUDED.request_hash, status_code = NULL,
                 response_headers = NULL, response_body = NULL, created_at = now(), expires_at = EXCLUDED.expires_at
               WHERE api_idempotency_keys.expires_at < now()
                  OR (api_idempotency_keys.status_code IS NULL AND api_idempotency_keys.created_at < now() - ${LEASE})
               RETURNING (xmax = 0) AS fresh, created_at::text AS claimed_at`,
        values: [clientId, key, operation, requestHash, ttlMs],
      });
      if (claimed) return { claim: { clientId, key, heldBefore: !claimed.fresh, claimedAt: claimed.claimed_at } };
      const { rows: [first] } = await pool.query<{ operation: string; request_hash: string; status_code: number | null; response_headers: Record<string, string> | null; response_body: unknown }>({
        name: 'api-idempotency-holder',
        text: 'SELECT operation, request_hash, status_code, response_headers, response_body FROM api_idempotency_keys WHERE client_id = $1 AND key = $2',
        values: [clientId, key],
      });
      return {
        holder: first ? {
          operation: first.operation,
          requestHash: first.request_hash,
          ...(first.status_code === null ? {} : {
            answer: { status: first.status_code, headers: first.response_headers ?? {}, body: first.response_body },
          }),
        } : null,
      };
    },
    /**
     * The work has happened whether or not its answer can be saved, so a failure here does not
     * fail the request: the key is released instead (a retry then does the work again, which finds
     * the first run's order or update), or, if even that fails, its lease runs out.
     */
    async keep(claim, answer) {
      try {
        const { rowCount } = await pool.query({
          name: 'api-idempotency-keep',
          text: `UPDATE api_idempotency_keys SET status_code = $3, response_headers = $4::jsonb, response_body = $5::jsonb,
                   expires_at = now() + $6::bigint * interval '1 millisecond'
                 WHERE client_id = $1 AND key = $2 AND created_at = $7::timestamptz`,
          values: [claim.clientId, claim.key, answer.status, JSON.stringify(answer.headers ?? {}), JSON.stringify(answer.body ?? null), ttlMs, claim.claimedAt],
        });
        if (rowCount === 0) logger.warn({ clientId: claim.clientId }, 'an Idempotency-Key was taken over by a later request after this one\'s lease ran out; this answer is not kept under it');
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

export function idempotency(pool: Queryable, ttlMs: number, logger: Logger): RequestHandler {
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
    const work = (claim: ApiClaim) => new Promise<KeptAnswer>((resolve) => {
      res.locals.idempotency = { ...(res.locals.idempotency as KeyedRequestInfo), heldBefore: claim.heldBefore } satisfies KeyedRequestInfo;
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
      outcome = await runWithIdempotencyKey(apiKeyStore(pool, ttlMs, clientId, logger), request, work,
        () => KEY_REUSED_DETAIL);
    } catch (err) {
      if (!answered) {
        if (err instanceof IdempotencyKeyInUse && err.retryAfterSeconds) res.set('retry-after', String(err.retryAfterSeconds));
        return next(err);
      }
      // The answer exists (the work is done) but its key could not be let go (after a 5xx, or a
      // refusal of the key): the lease frees it. The client gets the answer, never this error's text.
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

/** Removes expired keys; the API runs it on a timer. Postgres' clock, as for the claims (another host's clock may run ahead). */
export async function purgeExpiredIdempotencyKeys(pool: Queryable): Promise<number> {
  const { rowCount } = await pool.query('DELETE FROM api_idempotency_keys WHERE expires_at < now()');
  return rowCount ?? 0;
}
