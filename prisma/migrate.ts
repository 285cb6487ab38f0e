import { createHash, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';

/**
 * Applies prisma/migrations/* the way `prisma migrate deploy` does, without Prisma's schema-engine
 * binary (which cannot be downloaded on our machines). It keeps `_prisma_migrations` exactly as
 * Prisma keeps it (sha256 checksum of migration.sql, finished_at, applied_steps_count), so
 * `prisma migrate status`/`deploy` agree with it wherever the real engine is available.
 */
export const MIGRATIONS_DIR = join(__dirname, 'migrations');

const MIGRATIONS_TABLE_SQL = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id" VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum" VARCHAR(64) NOT NULL,
    "finished_at" TIMESTAMPTZ,
    "migration_name" VARCHAR(255) NOT NULL,
    "logs" TEXT,
    "rolled_back_at" TIMESTAMPTZ,
    "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count" INTEGER NOT NULL DEFAULT 0
);`;

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export function migrationChecksum(sql: string): string {
  return createHash('sha256').update(sql, 'utf8').digest('hex');
}

export function listMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((name) => statSync(join(dir, name)).isDirectory())
    .sort()
    .map((name) => {
      const sql = readFileSync(join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: migrationChecksum(sql) };
    });
}

export class MigrationError extends Error {}

/** Applies pending migrations in order; returns the names applied. Safe to run concurrently. */
export async function migrate(databaseUrl: string, log: (msg: string) => void = () => undefined): Promise<string[]> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  const applied: string[] = [];
  try {
    // One migrator at a time per database (several processes may start together).
    await client.query('SELECT pg_advisory_lock(72707369)');
    await client.query(MIGRATIONS_TABLE_SQL);
    const done = await client.query<{ migration_name: string; checksum: string; finished_at: Date | null; rolled_back_at: Date | null }>(
      'SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations"');
    const byName = new Map(done.rows.filter((r) => !r.rolled_back_at).map((r) => [r.migration_name, r]));
    for (const migration of listMigrations()) {
      const row = byName.get(migration.name);
      if (row?.finished_at) {
        if (row.checksum !== migration.checksum) {
          throw new MigrationError(`Migration ${migration.name} was changed after it was applied (checksum differs). Never edit an applied migration: add a new one.`);
        }
        continue;
      }
      if (row) {
        throw new MigrationError(`Migration ${migration.name} started earlier but did not finish. Inspect the database, fix it, then mark it rolled back (prisma migrate resolve --rolled-back ${migration.name}) and run again.`);
      }
      const id = randomUUID();
      log(`applying migration ${migration.name}`);
      await client.query('BEGIN');
      try {
        await client.query(migration.sql);
        await client.query(
          `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, applied_steps_count, started_at)
           VALUES ($1, $2, now(), $3, 1, now())`, [id, migration.checksum, migration.name]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw new MigrationError(`Migration ${migration.name} failed and was rolled back: ${(err as Error).message}`);
      }
      applied.push(migration.name);
    }
    return applied;
  } finally {
    await client.query('SELECT pg_advisory_unlock(72707369)').catch(() => undefined);
    await client.end();
  }
}

if (require.main === module) {
  const url = process.env.DATABASE_URL ?? 'postgresql://postgres:postgres@127.0.0.1:54329/orders';
  migrate(url, (m) => console.log(m))
    .then((names) => console.log(names.length ? `applied ${names.length} migration(s)` : 'database is up to date'))
    .catch((err: unknown) => {
      console.error((err as Error).message);
      process.exit(1);
    });
}
