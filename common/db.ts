import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client.ts';
import { dbTimeouts, pgTimeoutOptions, type DbTimeouts } from './pg';

export type Db = PrismaClient;
export { dbTimeouts, type DbTimeouts };

/**
 * The order service's Prisma client over node-postgres (Prisma 7 driver adapter, no Rust engine).
 * Its pool waits at most `timeouts` for a connection and lets no statement run longer; callers
 * pass `dbTimeouts(config)` (DATABASE_CONNECT_TIMEOUT, DATABASE_STATEMENT_TIMEOUT). Left out, the
 * defaults of those settings apply.
 */
export function createDb(databaseUrl: string, timeouts: DbTimeouts = dbTimeouts()): Db {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl, ...pgTimeoutOptions(timeouts) }) });
}
