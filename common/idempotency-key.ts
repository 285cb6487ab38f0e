import { createHash } from 'node:crypto';
import { HttpProblem, problem, PROBLEM_BASE } from './http';

/**
 * `Idempotency-Key` for mutating HTTP calls, after the IETF draft
 * (draft-ietf-httpapi-idempotency-key-header): one set of rules for our API (api/idempotency.ts,
 * optional key, kept per client for a TTL) and the peer services (services/shared/idempotency.ts,
 * required key, kept in the same transaction as the work). Each side brings a store.
 * - A key is 1-255 visible ASCII characters.
 * - The first request claims the key, does its work and keeps the answer under it. A 5xx answer
 *   (or a failure) is not kept: the key is released, so a retry does the work again. Nor is a
 *   refusal of the key itself (422, the work found the key's operation was another request's):
 *   kept under this request's fingerprint it would bind the key to the refused request, and the
 *   retries of the request the key belongs to would be refused until it expired.
 * - A later request with the same key and the same request gets the kept answer, replayed.
 * - The same key with a different request is refused: 422.
 * - A duplicate that arrives while the first is still being processed is refused: 409, whatever
 *   its body (only with a store that does not make duplicates wait for the first).
 */
export const IDEMPOTENT_REPLAYED_HEADER = 'Idempotent-Replayed';

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

export function isValidIdempotencyKey(key: string | undefined): key is string {
  return key !== undefined && KEY_PATTERN.test(key);
}

/**
 * What identifies a request under its key: SHA-256 over the operation, a separator and the JSON
 * body. Each side keeps the separator its stored keys were made with (the API "\n", the peers
 * "\0"): another one would answer the retries of keys stored before it with 422.
 */
export function requestFingerprint(operation: string, body: unknown, separator: '\n' | '\0'): string {
  return createHash('sha256').update(operation).update(separator).update(JSON.stringify(body ?? null)).digest('hex');
}

const KEY_REUSED_SLUG = 'idempotency-key-reused';

/** The 422 for a key used with another request than the one it belongs to. */
export function keyReusedProblem(detail: string): HttpProblem {
  return problem(422, KEY_REUSED_SLUG, 'Idempotency-Key reused with a different request', detail);
}

/** An answer as kept under a key and replayed. */
export interface KeptAnswer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface KeyedRequest {
  key: string;
  /** What the request does, as stored with the key (for logs and the 422 detail). */
  operation: string;
  requestHash: string;
}

/** What holds a key that another request claimed first. */
export interface KeyHolder {
  operation: string;
  requestHash: string;
  /** Absent while the first request is still being processed. */
  answer?: KeptAnswer;
}

/** Where keys are kept. `Claim` is the store's handle on a key it gave to this request. */
export interface IdempotencyStore<Claim> {
  /** Claims the key for this request, or says what holds it (null: it was held a moment ago and its row is gone: purged once expired, or a store that deletes on release). */
  claim(request: KeyedRequest): Promise<{ claim: Claim } | { holder: KeyHolder | null }>;
  /** Keeps the answer under the claimed key. */
  keep(claim: Claim, answer: KeptAnswer): Promise<void>;
  /** Lets the claimed key go without an answer. */
  release(claim: Claim): Promise<void>;
}

export interface IdempotentOutcome {
  answer: KeptAnswer;
  replayed: boolean;
}

/** 409: the key's first request has not answered yet. `retryAfterSeconds` is set when it is still running. */
export class IdempotencyKeyInUse extends HttpProblem {
  constructor(readonly retryAfterSeconds?: number) {
    super(problem(409, 'idempotency-key-in-use', 'Request with this Idempotency-Key is in progress',
      'A request with this key is still being processed; retry shortly to get its answer (422 if the key turns out to belong to another request).').problem);
  }
}

/**
 * Runs `work` at most once per key (see the rules above) and returns its answer, or the kept
 * answer of the key's first request. Throws the 422 and 409 problems; the 422's detail comes
 * from `reusedDetail`. An error of `work` releases the key and is thrown on.
 */
export async function runWithIdempotencyKey<Claim>(
  store: IdempotencyStore<Claim>,
  request: KeyedRequest,
  work: (claim: Claim) => Promise<KeptAnswer>,
  reusedDetail: (holder: KeyHolder) => string,
): Promise<IdempotentOutcome> {
  const taken = await store.claim(request);
  if (!('claim' in taken)) {
    const { holder } = taken;
    if (!holder) throw new IdempotencyKeyInUse();
    // Still being processed: even with another fingerprint, what the key belongs to is known only
    // once its holder answers (a holder refused for reusing the key lets it go).
    if (!holder.answer) throw new IdempotencyKeyInUse(1);
    if (holder.requestHash !== request.requestHash) {
      throw keyReusedProblem(reusedDetail(holder));
    }
    return { answer: holder.answer, replayed: true };
  }
  let answer: KeptAnswer;
  try {
    answer = await work(taken.claim);
  } catch (err) {
    await store.release(taken.claim);
    throw err;
  }
  if (answer.status >= 500 || refusesTheKey(answer)) await store.release(taken.claim);
  else await store.keep(taken.claim, answer);
  return { answer, replayed: false };
}

/** Whether an answer is the work's own refusal of the key (keyReusedProblem), which is never kept. */
function refusesTheKey(answer: KeptAnswer): boolean {
  return answer.status === 422 && (answer.body as { type?: unknown } | null)?.type === PROBLEM_BASE + KEY_REUSED_SLUG;
}
