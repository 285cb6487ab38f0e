import { readFileSync } from 'node:fs';
import type { Pool } from 'pg';
import { withTransaction } from '../../common/pg';
import { IDEMPOTENCY_TABLE_SQL } from './idempotency';

/**
 * Creates a service's schema and tables (its schema.sql plus the idempotency table) if they are missing.
 * Safe to run on every start, also from several instances at once: the advisory lock stops
 * concurrent CREATE ... IF NOT EXISTS from colliding.
 */
export async function ensureServiceSchema(pool: Pool, schema: string, schemaSqlPath: string): Promise<void> {
  const sql = readFileSync(schemaSqlPath, 'utf8') + IDEMPOTENCY_TABLE_SQL(schema);
  await withTransaction(pool, async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`${schema}:schema`]);
    // Created only when missing: in production the schema is made beforehand for the service's own
    // role (deploy/postgres/roles.sql), which may not create schemas, and even CREATE SCHEMA IF NOT
    // EXISTS needs that right.
    const { rows } = await tx.query<{ present: boolean }>('SELECT to_regnamespace($1) IS NOT NULL AS present', [schema]);
    if (!rows[0]?.present) await tx.query(`CREATE SCHEMA "${schema}"`);
    await tx.query(sql);
  });
}
