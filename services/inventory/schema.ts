import { join } from 'node:path';
import type { Pool } from 'pg';
import { ensureServiceSchema } from '../shared/ensure-schema';

export const INVENTORY_SCHEMA = 'inventory';

/** Creates the inventory tables (schema.sql) if they are missing; safe to run on every start. */
export function ensureSchema(pool: Pool): Promise<void> {
  return ensureServiceSchema(pool, INVENTORY_SCHEMA, join(__dirname, 'schema.sql'));
}
