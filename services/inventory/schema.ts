import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Pool } from 'pg';
import { IDEMPOTENCY_TABLE_SQL } from '../shared/idempotency';

export const INVENTORY_SCHEMA = 'inventory';

/**
 * Creates the inventory tables if they are missing. Safe to run on every start, also from several
 * instances at once: the advisory lock stops concurrent CREATE ... IF NOT EXISTS from colliding.
 */
export async function ensureSchema(pool: Pool): Promise<void> {
  const sql = readFileSync(join(__dirname, 'schema.sql'), 'utf8') + IDEMPOTENCY_TABLE_SQL(INVENTORY_SCHEMA);
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query("SELECT pg_advisory_xact_lock(hashtextextended('inventory:schema', 0))");
    await client.query(sql);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
