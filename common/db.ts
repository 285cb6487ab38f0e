import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client.ts';
import { dbTimeouts, pgTimeoutOptions, type DbTimeouts } from './pg';

export type Db = PrismaClient;
export { dbTimeouts, type DbTimeouts };

/**
 * The order service's Prisma client over node-postgres (Prisma 7 driver adapter, no Rust engine).
 * Its pool waits at most `timeouts` for a connection and lets no statement run longer; callers
 * pass `dbTimeouts(config)` (DATABASE_CONNECT_TIMEOUT, DATABASE_STATEMENT_TIMEOUT). Left out, the
 * defaults of those settings apply. `poolMax`: its most connections (DATABASE_POOL_MAX); unset,
 * node-postgres' 10.
 */
export function createDb(databaseUrl: string, timeouts: DbTimeouts = dbTimeouts(), poolMax?: number): Db {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl, ...pgTimeoutOptions(timeouts), ...(poolMax === undefined ? {} : { max: poolMax }) }) });
}
