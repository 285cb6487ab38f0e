import type { Pool, PoolClient, PoolConfig } from 'pg';
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

/** Runs `work` in one transaction on a pooled connection: COMMIT if it returns, ROLLBACK if it throws. */
export async function withTransaction<T>(pool: Pool, work: (tx: PoolClient) => Promise<T>): Promise<T> {
  const tx = await pool.connect();
  try {
    await tx.query('BEGIN');
    const result = await work(tx);
    await tx.query('COMMIT');
    return result;
  } catch (err) {
    await tx.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    tx.release();
  }
}
