import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { MIGRATIONS_DIR, MigrationError, listMigrations, migrate } from '../../prisma/migrate';
import { createTestDatabase, type TestDatabase } from '../harness/database';

/**
 * prisma/migrate.ts stands in for `prisma migrate deploy`: it must apply prisma/migrations/* in
 * order, once, and keep `_prisma_migrations` exactly as Prisma does, so that the real engine
 * (where there is one) agrees with it.
 */
interface MigrationRow {
  id: string;
  checksum: string;
  finished_at: Date | null;
  migration_name: string;
  logs: string | null;
  rolled_back_at: Date | null;
  started_at: Date;
  applied_steps_count: number;
}

/** The migrations on disk, read independently of migrate.ts: directory names in order, sha256 of the file's bytes. */
const onDisk = readdirSync(MIGRATIONS_DIR)
  .filter((name) => statSync(join(MIGRATIONS_DIR, name)).isDirectory())
  .sort()
  .map((name) => ({ name, checksum: createHash('sha256').update(readFileSync(join(MIGRATIONS_DIR, name, 'migration.sql'))).digest('hex') }));
const names = onDisk.map((m) => m.name);

const databases: TestDatabase[] = [];
async function freshDatabase(): Promise<TestDatabase> {
  const db = await createTestDatabase('migrate');
  databases.push(db);
  return db;
}

afterAll(async () => {
  await Promise.all(databases.map((db) => db.drop()));
});

async function withClient<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function migrationRows(url: string): Promise<MigrationRow[]> {
  return withClient(url, async (c) => (await c.query<MigrationRow>('SELECT * FROM "_prisma_migrations" ORDER BY migration_name, started_at')).rows);
}

it('the migrations directory is in Prisma Migrate layout', () => {
  expect(names.length).toBeGreaterThan(0);
  for (const name of names) expect(name).toMatch(/^\d{14}_[a-z0-9_]+$/);
  expect(readFileSync(join(MIGRATIONS_DIR, 'migration_lock.toml'), 'utf8')).toMatch(/^provider = "postgresql"$/m);
  expect(listMigrations().map(({ name, checksum }) => ({ name, checksum }))).toEqual(onDisk);
});

describe('on an empty database', () => {
  let db: TestDatabase;
  let firstRun: string[];
  let rowsAfterFirstRun: MigrationRow[];

  beforeAll(async () => {
    db = await freshDatabase();
    firstRun = await migrate(db.url);
    rowsAfterFirstRun = await migrationRows(db.url);
  });

  it('applies every migration, in order', () => {
    expect(firstRun).toEqual(names);
  });

  it('records each one in _prisma_migrations as Prisma does', () => {
    expect(rowsAfterFirstRun.map((r) => r.migration_name)).toEqual(names);
    for (const row of rowsAfterFirstRun) {
      const file = onDisk.find((m) => m.name === row.migration_name)!;
      expect(row).toEqual({
        id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
        checksum: file.checksum,
        finished_at: expect.any(Date),
        migration_name: file.name,
        logs: null,
        rolled_back_at: null,
        started_at: expect.any(Date),
        applied_steps_count: 1,
      });
      expect(row.finished_at!.getTime()).toBeGreaterThanOrEqual(row.started_at.getTime());
    }
  });

  it('applies nothing when run again', async () => {
    expect(await migrate(db.url)).toEqual([]);
    expect(await migrationRows(db.url)).toEqual(rowsAfterFirstRun);
  });
});

it('applies each migration once when several migrate() calls race on a fresh database', async () => {
  for (let round = 0; round < 3; round++) {
    const db = await freshDatabase();
    const results = await Promise.all([migrate(db.url), migrate(db.url), migrate(db.url), migrate(db.url)]);
    // Whoever got the lock first applied everything; the others found nothing left to do.
    expect(results.flat().sort()).toEqual(names);
    expect(results.filter((applied) => applied.length > 0)).toEqual([names]);
    const rows = await migrationRows(db.url);
    expect(rows.map((r) => r.migration_name)).toEqual(names);
    expect(rows.every((r) => r.finished_at && r.applied_steps_count === 1 && !r.rolled_back_at)).toBe(true);
  }
});

describe('refuses to run', () => {
  let db: TestDatabase;
  const target = names[0]!;

  beforeAll(async () => {
    db = await freshDatabase();
    await migrate(db.url);
  });

  it('when an applied migration was edited afterwards (its checksum differs), naming the migration', async () => {
    const recorded = onDisk[0]!.checksum;
    await withClient(db.url, (c) => c.query('UPDATE "_prisma_migrations" SET checksum = $1 WHERE migration_name = $2', ['0'.repeat(64), target]));
    const before = await migrationRows(db.url);

    const run = migrate(db.url);
    await expect(run).rejects.toThrow(MigrationError);
    await expect(run).rejects.toThrow(`Migration ${target} was changed after it was applied (checksum differs)`);
    expect(await migrationRows(db.url)).toEqual(before);

    // It released its lock and left the database usable: with the checksum back, all is up to date.
    await withClient(db.url, (c) => c.query('UPDATE "_prisma_migrations" SET checksum = $1 WHERE migration_name = $2', [recorded, target]));
    expect(await migrate(db.url)).toEqual([]);
  });

  it('when a migration started but did not finish, naming the migration', async () => {
    await withClient(db.url, (c) => c.query('UPDATE "_prisma_migrations" SET finished_at = NULL, applied_steps_count = 0 WHERE migration_name = $1', [target]));
    await expect(migrate(db.url)).rejects.toThrow(new RegExp(`^Migration ${target} started earlier but did not finish`));
    await withClient(db.url, (c) => c.query('UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE migration_name = $1', [target]));
    expect(await migrate(db.url)).toEqual([]);
  });
});
