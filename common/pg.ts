import { Pool, type PoolClient, type PoolConfig } from 'pg';
import { loadConfig, type Config } from './config';

/** How long a pool waits for Postgres: for a new connection, and for one statement. 0: no limit. */
export interface DbTimeouts {
  connectTimeoutMs: number;
  statementTimeoutMs: number;
}

/** The configured timeouts (DATABASE_CONNECT_TIMEOUT, DATABASE_STATEMENT_TIMEOUT); without a config, their defaults. */
export function dbTimeouts(config: Pick<Config, 'DATABASE_CONNECT_TIMEOUT' | 'DATABASE_STATEMENT_TIMEOUT'> = loadConfig({})): DbTimeouts {
  return { connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT, statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT };
}

/** node-postgres options for those timeouts: the connect timeout is the pool's, the statement timeout is Postgres' own. */
export function pgTimeoutOptions(timeouts: DbTimeouts): Pick<PoolConfig, 'connectionTimeoutMillis' | 'statement_timeout'> {
  return { connectionTimeoutMillis: timeouts.connectTimeoutMs, statement_timeout: timeouts.statementTimeoutMs };
}

/**
 * A node-postgres pool with those timeouts (callers pass `dbTimeouts(config)`); `poolMax`: its most
 * connections (DATABASE_POOL_MAX), unset node-postgres' 10. An idle connection that fails is
 * replaced by the pool; `onIdleError` hears of it (without a listener node-postgres would crash the process).
 */
export function createPool(databaseUrl: string, timeouts: DbTimeouts, poolMax: number | undefined, onIdleError: (err: Error) => void): Pool {
  const pool = new Pool({ connectionString: databaseUrl, ...pgTimeoutOptions(timeouts), ...(poolMax === undefined ? {} : { max: poolMax }) });
  pool.on('error', onIdleError);
  return pool;
}

/** What runs a statement: a pool, or the connection of a transaction. */
export type Queryable = Pick<Pool | PoolClient, 'query'>;

/**
 * A pooled connection checked out for longer than one query (a transaction). node-postgres emits
 * an 'error' event on it if its backend goes away meanwhile (Postgres restart, terminated backend),
 * and the pool listens only while the connection is idle: unheard, that event would end the
 * process. Here it is heard, the statement under way fails as it would anyway, and `release` drops
 * the broken connection from the pool instead of handing it out again.
 */
export async function checkOut(pool: Pool): Promise<{ client: PoolClient; markBroken(err: Error): void; release(): void }> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const markBroken = (err: Error) => { broken ??= err; };
  client.on('error', markBroken);
  return {
    client,
    markBroken,
    release() {
      client.removeListener('error', markBroken);
      client.release(broken);
    },
  };
}

/** Runs `work` in one transaction on a pooled connection (checkOut): COMMIT if it returns, ROLLBACK if it throws. */
export async function withTransaction<T>(pool: Pool, work: (tx: PoolClient) => Promise<T>): Promise<T> {
  const { client: tx, markBroken, release } = await checkOut(pool);
  try {
    await tx.query('BEGIN');
    const result = await work(tx);
    await tx.query('COMMIT');
    return result;
  } catch (err) {
    await tx.query('ROLLBACK').catch(markBroken);
    throw err;
  } finally {
    release();
  }
}
