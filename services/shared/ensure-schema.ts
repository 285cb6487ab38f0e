import { readFileSync } from 'node:fs';
import type { Pool } from 'pg';
import { withTransaction } from '../../common/pg';
import { IDEMPOTENCY_TABLE_SQL } from './idempotency';

/**
 * Creates a service's tables (its schema.sql plus the idempotency table) if they are missing.
 * Safe to run on every start, also from several instances at once: the advisory lock stops
 * concurrent CREATE ... IF NOT EXISTS from colliding.
 */
export async function ensureServiceSchema(pool: Pool, schema: string, schemaSqlPath: string): Promise<void> {
  const sql = readFileSync(schemaSqlPath, 'utf8') + IDEMPOTENCY_TABLE_SQL(schema);
  await withTransaction(pool, async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`${schema}:schema`]);
    await tx.query(sql);
  });
}
