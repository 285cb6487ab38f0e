import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Db } from '../common/db';
import { PROBLEM_BASE, problem, sendProblem } from '../common/http';
import {
  IDEMPOTENT_REPLAYED_HEADER, IdempotencyKeyInUse, isValidIdempotencyKey, requestFingerprint, runWithIdempotencyKey,
  type IdempotencyStore, type KeptAnswer,
} from '../common/idempotency-key';

/**
 * `Idempotency-Key` for our mutating REST calls, by the rules of common/idempotency-key.ts:
 * the header is optional (without it a request is simply not de-duplicated); a replay carries
 * `Idempotent-Replayed: true`; a duplicate that arrives while the first is still being processed
 * is 409. Keys are scoped per client (`X-Client-Id`; "anonymous" without it) and kept for
 * IDEMPOTENCY_KEY_TTL (24 h by default).
 */
const CLIENT_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
const REPLAYED_HEADERS = ['location', 'content-type', 'x-correlation-id'];

interface ApiClaim {
  clientId: string;
  key: string;
}

/**
 * The API's keys, in `api_idempotency_keys`: a claim is a row without an answer yet, and a key
 * whose row has expired can be claimed again. Duplicates do not wait for the first: they see
 * its row without an answer.
 */
function apiKeyStore(db: Db, ttlMs: number, clientId: string): IdempotencyStore<ApiClaim> {
  return {
    async claim({ key, operation, requestHash }) {
      const claimed = await db.$executeRaw`
        INSERT INTO api_idempotency_keys (client_id, key, operation, request_hash, expires_at)
        VALUES (${clientId}, ${key}, ${operation}, ${requestHash}, now() + ${ttlMs} * interval '1 millisecond')
        ON CONFLICT (client_id, key) DO UPDATE SET
          operation = EXCLUDED.operation, request_hash = EXCLUDED.request_hash, status_code = NULL,
          response_headers = NULL, response_body = NULL, created_at = now(), expires_at = EXCLUDED.expires_at
        WHERE api_idempotency_keys.expires_at < now()`;
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
    async keep(claim, answer) {
      await db.apiIdempotencyKey.update({
        where: { clientId_key: claim }, data: { statusCode: answer.status, responseHeaders: answer.headers, responseBody: answer.body as object },
      });
    },
    async release(claim) {
      await db.apiIdempotencyKey.deleteMany({ where: claim });
    },
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

export function idempotency(db: Db, ttlMs: number): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const key = req.get('idempotency-key');
    if (key === undefined) return next();
    if (!isValidIdempotencyKey(key)) {
      return next(problem(400, 'invalid-idempotency-key', 'Invalid Idempotency-Key', 'Use 1-255 visible ASCII characters, unique per intended operation (a UUID is a good choice).'));
    }
    const clientHeader = req.get('x-client-id');
    if (clientHeader !== undefined && !CLIENT_PATTERN.test(clientHeader)) {
      return next(problem(400, 'invalid-client-id', 'Invalid X-Client-Id', 'Use 1-128 characters of letters, digits and ._:-'));
    }
    const clientId = clientHeader ?? 'anonymous';
    const request = {
      key,
      operation: `${req.method} ${req.route?.path ?? req.path}`,
      requestHash: requestFingerprint(`${req.method} ${req.baseUrl}${req.path}`, req.body, '\n'),
    };

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
      outcome = await runWithIdempotencyKey(apiKeyStore(db, ttlMs, clientId), request, work,
        () => 'This key was first used with another request; use a new key for a new operation.');
    } catch (err) {
      if (!answered) {
        if (err instanceof IdempotencyKeyInUse && err.retryAfterSeconds) res.set('retry-after', String(err.retryAfterSeconds));
        return next(err);
      }
      return sendProblem(res, { type: PROBLEM_BASE + 'internal', title: 'Internal error', status: 500, detail: `Could not record the idempotent answer: ${(err as Error).message}` });
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
