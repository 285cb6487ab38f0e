import { join } from 'node:path';
import type { Pool } from 'pg';
import { ensureServiceSchema } from '../shared/ensure-schema';

export const PAYMENT_SCHEMA = 'payment';

/** Creates the payment tables (schema.sql) if they are missing; safe to run on every start. */
export function ensureSchema(pool: Pool): Promise<void> {
  return ensureServiceSchema(pool, PAYMENT_SCHEMA, join(__dirname, 'schema.sql'));
}
