import { createHash } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Db } from '../common/db';
import { PROBLEM_BASE, problem, sendProblem } from '../common/http';

/**
 * `Idempotency-Key` for our mutating REST calls, after the IETF draft
 * (draft-ietf-httpapi-idempotency-key-header):
 * - the same key and the same request replay the first response (with `Idempotent-Replayed: true`);
 * - the same key with a different request is 422;
 * - a duplicate that arrives while the first is still being processed is 409;
 * - keys are scoped per client (`X-Client-Id`; "anonymous" without it) and kept for
 *   IDEMPOTENCY_KEY_TTL (24 h by default); a 5xx answer is not kept, so the client can retry.
 * The header is optional: without it a request is simply not de-duplicated.
 */
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
const CLIENT_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
const REPLAYED_HEADERS = ['location', 'content-type', 'x-correlation-id'];

const inProgress = () => problem(409, 'idempotency-key-in-use', 'Request with this Idempotency-Key is in progress',
  'An identical request with this key is still being processed; retry shortly to get its answer.');

export function requestFingerprint(req: Request): string {
  return createHash('sha256').update(`${req.method} ${req.baseUrl}${req.path}\n`).update(JSON.stringify(req.body ?? null)).digest('hex');
}

export function idempotency(db: Db, ttlMs: number): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const key = req.get('idempotency-key');
    if (key === undefined) return next();
    if (!KEY_PATTERN.test(key)) {
      return next(problem(400, 'invalid-idempotency-key', 'Invalid Idempotency-Key', 'Use 1-255 visible ASCII characters, unique per intended operation (a UUID is a good choice).'));
    }
    const clientHeader = req.get('x-client-id');
    if (clientHeader !== undefined && !CLIENT_PATTERN.test(clientHeader)) {
      return next(problem(400, 'invalid-client-id', 'Invalid X-Client-Id', 'Use 1-128 characters of letters, digits and ._:-'));
    }
    const clientId = clientHeader ?? 'anonymous';
    const operation = `${req.method} ${req.route?.path ?? req.path}`;
    const requestHash = requestFingerprint(req);

    const claimed = await db.$executeRaw`
      INSERT INTO api_idempotency_keys (client_id, key, operation, request_hash, expires_at)
      VALUES (${clientId}, ${key}, ${operation}, ${requestHash}, now() + ${ttlMs} * interval '1 millisecond')
      ON CONFLICT (client_id, key) DO UPDATE SET
        operation = EXCLUDED.operation, request_hash = EXCLUDED.request_hash, status_code = NULL,
        response_headers = NULL, response_body = NULL, created_at = now(), expires_at = EXCLUDED.expires_at
      WHERE api_idempotency_keys.expires_at < now()`;

    if (claimed === 0) {
      const first = await db.apiIdempotencyKey.findUnique({ where: { clientId_key: { clientId, key } } });
      if (!first) return next(inProgress()); // the first answer was a 5xx and was just released
      if (first.requestHash !== requestHash) {
        return next(problem(422, 'idempotency-key-reused', 'Idempotency-Key reused with a different request',
          'This key was first used with another request; use a new key for a new operation.'));
      }
      if (first.statusCode === null) {
        res.set('retry-after', '1');
        return next(inProgress());
      }
      for (const [name, value] of Object.entries((first.responseHeaders ?? {}) as Record<string, string>)) res.set(name, value);
      res.set('idempotent-replayed', 'true').status(first.statusCode);
      const body = first.responseBody;
      return typeof body === 'string' ? res.send(body) : res.send(JSON.stringify(body));
    }

    // Keep the answer before it leaves, so a retry that arrives right after gets it.
    const send = res.send.bind(res);
    let stored = false;
    res.send = ((body: unknown) => {
      if (stored) return send(body);
      stored = true;
      const status = res.statusCode;
      const headers = Object.fromEntries(REPLAYED_HEADERS.map((h) => [h, res.get(h)]).filter(([, v]) => v !== undefined));
      const text = Buffer.isBuffer(body) ? body.toString('utf8') : typeof body === 'string' ? body : JSON.stringify(body);
      let json: unknown = text;
      try { json = JSON.parse(text); } catch { /* keep as text */ }
      const persist = status >= 500
        ? db.apiIdempotencyKey.deleteMany({ where: { clientId, key } })
        : db.apiIdempotencyKey.update({ where: { clientId_key: { clientId, key } }, data: { statusCode: status, responseHeaders: headers, responseBody: json as object } });
      persist.then(() => send(body), (err: unknown) => {
        sendProblem(res, { type: PROBLEM_BASE + 'internal', title: 'Internal error', status: 500, detail: `Could not record the idempotent answer: ${(err as Error).message}` });
      });
      return res;
    }) as Response['send'];
    next();
  };
}

/** Removes expired keys; the API runs it on a timer. */
export async function purgeExpiredIdempotencyKeys(db: Db): Promise<number> {
  const { count } = await db.apiIdempotencyKey.deleteMany({ where: { expiresAt: { lt: new Date() } } });
  return count;
}
