import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureTools, freePort, startNats, startPostgres, startTemporalDevServer, type StartedService } from './infra';

/**
 * `npm test`: starts real Postgres, NATS (JetStream) and a Temporal dev server on free ports,
 * points the tests at them through TEST_* variables, runs Jest, stops everything.
 * Already-running ones can be used instead by setting TEST_PG_URL, TEST_NATS_URL or
 * TEST_TEMPORAL_ADDRESS. Time-skipping workflow tests use Temporal's Java test server from
 * TEMPORAL_TEST_SERVER_BIN (fetched from Maven Central by tools/ensure-tools.sh); set
 * TEMPORAL_TEST_SERVER_BIN=download to let the SDK download its own instead.
 * Jest arguments pass through: `npm test -- test/unit`.
 */
async function main(): Promise<number> {
  const repo = join(__dirname, '..');
  const work = mkdtempSync(join(tmpdir(), 'orders-test-'));
  chmodSync(work, 0o777); // embedded Postgres runs as its own system user when we are root
  const started: StartedService[] = [];
  const env: Record<string, string> = {};
  try {
    const tools = await ensureTools([
      ...(process.env.TEST_TEMPORAL_ADDRESS ? [] : ['temporal' as const]),
      'nats' as const, // also for tests that stop and restart a server of their own
      ...(process.env.TEMPORAL_TEST_SERVER_BIN ? [] : ['test-server' as const]),
    ]);
    env.TEMPORAL_TEST_SERVER_BIN = process.env.TEMPORAL_TEST_SERVER_BIN ?? tools.TEMPORAL_TEST_SERVER_BIN!;
    env.TEST_NATS_SERVER_BIN = tools.NATS_SERVER_BIN!;

    const track = <T extends StartedService>(service: T): T => { started.push(service); return service; };
    const [pg, nats, temporal] = await Promise.all([
      process.env.TEST_PG_URL ? null : freePort().then((port) => startPostgres({ dir: join(work, 'postgres'), port, persistent: false })).then(track),
      process.env.TEST_NATS_URL ? null : freePort().then((port) => startNats({ bin: tools.NATS_SERVER_BIN!, dir: join(work, 'nats'), port, logFile: join(work, 'nats.log') })).then(track),
      process.env.TEST_TEMPORAL_ADDRESS ? null : freePort().then((port) => startTemporalDevServer({ bin: tools.TEMPORAL_CLI_BIN!, port, logFile: join(work, 'temporal.log') })).then(track),
    ]);
    env.TEST_PG_URL = process.env.TEST_PG_URL ?? pg!.adminUrl;
    env.TEST_NATS_URL = process.env.TEST_NATS_URL ?? nats!.url;
    env.TEST_TEMPORAL_ADDRESS = process.env.TEST_TEMPORAL_ADDRESS ?? temporal!.url;
    console.log(`[test] postgres ${env.TEST_PG_URL}\n[test] nats ${env.TEST_NATS_URL}\n[test] temporal ${env.TEST_TEMPORAL_ADDRESS}\n[test] logs in ${work}`);

    const resultsFile = join(repo, 'test-results.json');
    const jest = spawn(process.execPath, [require.resolve('jest/bin/jest'), '--json', `--outputFile=${resultsFile}`, ...process.argv.slice(2)], {
      cwd: repo, stdio: 'inherit', env: { ...process.env, ...env },
    });
    const code = await new Promise<number>((resolve) => jest.on('exit', (c) => resolve(c ?? 1)));
    try {
      const results = JSON.parse(readFileSync(resultsFile, 'utf8')) as { numPassedTests: number; numFailedTests: number };
      console.log(`${results.numPassedTests} passed, ${results.numFailedTests} failed`);
    } catch {
      console.log('[test] Jest wrote no results file');
    }
    return code;
  } finally {
    await Promise.allSettled(started.reverse().map((s) => s.stop()));
    if (!process.env.KEEP_TEST_DATA) rmSync(work, { recursive: true, force: true });
  }
}

main().then((code) => process.exit(code), (err: unknown) => {
  console.error(`[test] ${(err as Error).stack ?? err}`);
  process.exit(1);
});
