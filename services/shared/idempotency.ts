import { createHash } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { problem } from '../../common/http';

/** A stored response: what a mutating call answered the first time its Idempotency-Key was seen. */
export interface StoredResponse {
  status: number;
  body: unknown;
}

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

export function hashRequest(operation: string, body: unknown): string {
  return createHash('sha256').update(operation).update('\0').update(JSON.stringify(body ?? null)).digest('hex');
}

export function requireIdempotencyKey(header: string | undefined): string {
  if (!header || header.length > 255 || !/^[\x21-\x7e]+$/.test(header)) {
    throw problem(400, 'idempotency-key-required', 'Idempotency-Key header required',
      'Every mutating call needs an Idempotency-Key header (1-255 visible ASCII characters), unique per intended operation.');
  }
  return header;
}

/**
 * Runs `work` at most once per idempotency key. The key's row is written in the same transaction
 * as the work's own writes, and concurrent calls with one key are serialized by an advisory lock,
 * so a retried or duplicated call gets the first answer back and changes nothing.
 * The same key with a different request is a client bug: 422.
 */
export async function runIdempotent(
  pool: Pool,
  schema: string,
  key: string,
  operation: string,
  requestBody: unknown,
  work: (tx: PoolClient) => Promise<StoredResponse>,
): Promise<IdempotentResult> {
  const requestHash = hashRequest(operation, requestBody);
  const tx = await pool.connect();
  try {
    await tx.query('BEGIN');
    await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`${schema}:${key}`]);
    const existing = await tx.query<{ operation: string; request_hash: string; status: number; body: unknown }>(
      `SELECT operation, request_hash, status, body FROM ${schema}.idempotency_keys WHERE key = $1`, [key]);
    const first = existing.rows[0];
    if (first) {
      await tx.query('COMMIT');
      if (first.request_hash !== requestHash) {
        throw problem(422, 'idempotency-key-reused', 'Idempotency-Key reused with a different request',
          `Key "${key}" was first used for ${first.operation} with another body; use a new key for a new operation.`);
      }
      return { status: first.status, body: first.body, replayed: true };
    }
    const response = await work(tx);
    await tx.query(
      `INSERT INTO ${schema}.idempotency_keys (key, operation, request_hash, status, body) VALUES ($1, $2, $3, $4, $5)`,
      [key, operation, requestHash, response.status, JSON.stringify(response.body)]);
    await tx.query('COMMIT');
    return { ...response, replayed: false };
  } catch (err) {
    await tx.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    tx.release();
  }
}
