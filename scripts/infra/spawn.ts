import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';

/**
 * Starting and stopping local server binaries, so that none outlives the script that started it.
 * Every child spawned here is tracked: whatever way this process ends (a clean stop, an uncaught
 * error, process.exit), the ones still running are killed. Their descendants, which this
 * process cannot see, carry the run marker of scripts/infra/run-marker.ts and are swept there.
 */
export { freePort } from './ports';

export interface StartedService {
  name: string;
  url: string;
  stop(): Promise<void>;
  /** kill -9, as a crash would (chaos tests); resolves once the process is gone. */
  crash?(): Promise<void>;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** spawn() that registers the child so it is killed if this process exits without stopping it. */
export function spawnTracked(command: string, args: string[], options: SpawnOptions): ChildProcess {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const child of running) child.kill('SIGKILL');
    });
  }
  const child = spawn(command, args, options);
  running.add(child);
  child.once('exit', () => running.delete(child));
  child.once('error', () => running.delete(child));
  return child;
}

/** Sends SIGTERM (or `signal`), waits for the exit, and SIGKILLs after `graceMs`. */
export function stopChild(child: ChildProcess, graceMs = 10_000, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return resolve();
    const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => { clearTimeout(killer); resolve(); });
    child.kill(signal);
  });
}

export async function waitForPort(port: number, what: string, timeoutMs = 60_000, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child && (child.exitCode !== null || child.signalCode !== null)) {
      throw new Error(`${what} exited (${child.signalCode ?? `code ${child.exitCode}`}) before it was ready`);
    }
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

/** Spawns a long-running binary with its output in a log file; stop() signals it and waits. */
export function spawnLogged(bin: string, args: string[], logFile: string, options: SpawnOptions & { stopSignal?: NodeJS.Signals } = {}): { child: ChildProcess; stop(): Promise<void>; crash(): Promise<void> } {
  const { stopSignal = 'SIGTERM', ...spawnOptions } = options;
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawnTracked(bin, args, { ...spawnOptions, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.pipe(log, { end: false });
  child.stderr!.pipe(log, { end: false });
  child.once('error', (err) => log.write(`could not start ${bin}: ${err.message}\n`));
  child.once('close', () => log.end()); // after both output streams have ended
  return {
    child,
    stop: () => stopChild(child, 10_000, stopSignal),
    crash: () => stopChild(child, 0, 'SIGKILL'),
  };
}

/**
 * nats-server with JetStream. `sync_interval: always` makes JetStream fsync before it
 * acknowledges a publish: on one node the store is the only copy, and the relay forgets an
 * event once it is acknowledged (see common/nats.ts, "Durability"). `authorization` is the
 * users block (common/nats-server-config.ts); without it anyone connected may do anything
 * (the benchmark's private server only).
 */
export async function startNats(opts: { bin: string; dir: string; port: number; logFile: string; syncAlways?: boolean; authorization?: string }): Promise<StartedService> {
  mkdirSync(opts.dir, { recursive: true });
  const configFile = join(opts.dir, 'nats-server.conf');
  writeFileSync(configFile, [
    `listen: "127.0.0.1:${opts.port}"`,
    `jetstream { store_dir: ${JSON.stringify(opts.dir)}${opts.syncAlways === false ? '' : ', sync_interval: always'} }`,
    opts.authorization ?? '',
  ].join('\n'));
  const proc = spawnLogged(opts.bin, ['-c', configFile], opts.logFile);
  try {
    await waitForPort(opts.port, 'nats-server', 30_000, proc.child);
  } catch (err) {
    await proc.stop();
    throw new Error(`${(err as Error).message}; see ${opts.logFile}`);
  }
  return { name: 'nats', url: `nats://127.0.0.1:${opts.port}`, stop: proc.stop, crash: proc.crash };
}
