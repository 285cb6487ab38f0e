import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * A marker in the environment of everything one `npm run dev` or `npm test` starts, children
 * and their children alike (a Jest worker's nats-server, the Java test server the SDK starts,
 * Postgres's own backends). When the run ends, whatever still carries the marker is an orphan
 * and is killed. Linux only (it reads /proc); elsewhere the sweep finds nothing.
 */
export const RUN_MARKER = 'ORDERS_RUN_ID';

let ownedRun: string | undefined;

/**
 * Starts a run owned by this process: sets the marker in its environment, inherited by every
 * child, and kills what is left of the run when this process exits, however it exits.
 */
export function beginRun(): string {
  ownedRun = randomUUID();
  process.env[RUN_MARKER] = ownedRun;
  process.once('exit', () => killRunProcesses());
  return ownedRun;
}

/** Pids of the processes (other than this one) whose environment has `name=value`. */
export function processesWithEnv(name: string, value: string): number[] {
  const needle = `${name}=${value}`;
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const found: number[] = [];
  for (const entry of entries) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      if (readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(needle)) found.push(pid);
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

/**
 * Kills (SIGKILL) every process of the run this process owns that is still alive, and returns
 * their pids. A process that only inherited the marker (a Jest worker) kills nothing.
 * Synchronous, so it can run in an exit hook.
 */
export function killRunProcesses(): number[] {
  if (!ownedRun) return [];
  const pids = processesWithEnv(RUN_MARKER, ownedRun);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  return pids;
}
