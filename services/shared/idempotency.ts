import type { Pool, PoolClient } from 'pg';
import { checkOut } from '../../common/pg';
import { problem } from '../../common/http';
import {
  isValidIdempotencyKey, requestFingerprint, runWithIdempotencyKey, type IdempotencyStore, type KeptAnswer, type KeyedRequest,
} from '../../common/idempotency-key';

/** A stored response: what a mutating call answered the first time its Idempotency-Key was seen. */
export type StoredResponse = Omit<KeptAnswer, 'headers'>;

export interface IdempotentResult extends StoredResponse {
  replayed: boolean;
}

export const IDEMPOTENCY_TABLE_SQL = (schema: string) => `
CREATE TABLE IF NOT EXISTS ${schema}.idempotency_keys (
  key           text PRIMARY KEY,
  operation     text NOT NULL,
  request_hash  text NOT NULL,
  status        integer NOT NULL,
  body          jsonb NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now()
);`;

export function requireIdempotencyKey(header: string | undefined): string {
  if (!isValidIdempotencyKey(header)) {
    throw problem(400, 'idempotency-key-required', 'Idempotency-Key header required',
      'Every mutating call needs an Idempotency-Key header (1-255 visible ASCII characters), unique per intended operation.');
  }
  return header;
}

/** A claimed key: the open transaction that holds its lock, in which the work runs. */
interface PeerClaim {
  tx: PoolClient;
  request: KeyedRequest;
  /** Gives the connection back to the pool (dropped if it broke while checked out: common/pg.ts checkOut). */
  done(): void;
  markBroken(err: Error): void;
}

/**
 * The peers' keys, in the service's own `<schema>.idempotency_keys`. A claim is a transaction
 * that holds an advisory lock on the key: concurrent calls with one key wait for the first, and
 * the key's row is written in the same transaction as the work's own writes (COMMIT), or neither
 * is (ROLLBACK). Rows are written only with their answer, and kept for good.
 */
function peerKeyStore(pool: Pool, schema: string): IdempotencyStore<PeerClaim> {
  return {
    async claim(request) {
      const { key } = request;
      const { client: tx, markBroken, release } = await checkOut(pool);
      let claimed = false;
      try {
        await tx.query('BEGIN');
        await tx.query({ name: `${schema}-idempotency-lock`, text: 'SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', values: [`${schema}:${key}`] });
        const existing = await tx.query<{ operation: string; request_hash: string; status: number; body: unknown }>({
          name: `${schema}-idempotency-key`, text: `SELECT operation, request_hash, status, body FROM ${schema}.idempotency_keys WHERE key = $1`, values: [key],
        });
        const first = existing.rows[0];
        if (!first) {
          claimed = true;
          return { claim: { tx, request, done: release, markBroken } };
        }
        await tx.query('COMMIT');
        return { holder: { operation: first.operation, requestHash: first.request_hash, answer: { status: first.status, body: first.body } } };
      } catch (err) {
        await tx.query('ROLLBACK').catch(markBroken);
        throw err;
      } finally {
        if (!claimed) release();
      }
    },
    async keep({ tx, request, done, markBroken }, answer) {
      try {
        await tx.query({
          name: `${schema}-idempotency-keep`,
          text: `INSERT INTO ${schema}.idempotency_keys (key, operation, request_hash, status, body) VALUES ($1, $2, $3, $4, $5)`,
          values: [request.key, request.operation, request.requestHash, answer.status, JSON.stringify(answer.body)],
        });
        await tx.query('COMMIT');
      } catch (err) {
        await tx.query('ROLLBACK').catch(markBroken);
        throw err;
      } finally {
        done();
      }
    },
    async release({ tx, done, markBroken }) {
      await tx.query('ROLLBACK').catch(markBroken);
      done();
    },
  };
}

/**
 * Runs `work` at most once per idempotency key, in one transaction with the key's row, so a
 * retried or duplicated call gets the first answer back and changes nothing. The same key with
 * a different request is a client bug: 422.
 */
export async function runIdempotent(
  pool: Pool,
  schema: string,
  key: string,
  operation: string,
  requestBody: unknown,
  work: (tx: PoolClient) => Promise<StoredResponse>,
): Promise<IdempotentResult> {
  const request = { key, operation, requestHash: requestFingerprint(operation, requestBody, '\0') };
  const { answer, replayed } = await runWithIdempotencyKey(peerKeyStore(pool, schema), request, ({ tx }) => work(tx),
    (first) => `Key "${key}" was first used for ${first.operation} with another body; use a new key for a new operation.`);
  return { status: answer.status, body: answer.body, replayed };
}
