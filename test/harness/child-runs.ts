import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { processesWithEnv } from '../../scripts/infra/run-marker';

export const REPO = join(__dirname, '..', '..');

/**
 * One of our top-level scripts (`npm run dev`, `npm test`) run as a child, the way a user runs
 * it, with a probe variable in its environment that every process it starts inherits, so the
 * test can tell afterwards whether any of them outlived it.
 */
export interface ScriptRun {
  child: ChildProcess;
  probe: string;
  output(): string;
  waitForOutput(pattern: RegExp, timeoutMs: number): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Processes still alive that this run started, directly or not. */
  leftovers(): number[];
  kill(): void;
}

export const PROBE_VARIABLE = 'ORDERS_TEST_PROBE';

/** Runs `tsx <args>` from the repository with `env` over ours, less the variables in `unset`. */
export function runScript(args: string[], env: NodeJS.ProcessEnv, unset: string[] = []): ScriptRun {
  const probe = randomUUID();
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env, [PROBE_VARIABLE]: probe };
  for (const name of unset) delete childEnv[name];
  const child = spawn(process.execPath, [join(REPO, 'node_modules/tsx/dist/cli.mjs'), ...args], {
    cwd: REPO, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => { output += s; });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => { output += s; });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return {
    child, probe, exited,
    output: () => output,
    async waitForOutput(pattern, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(output)) {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the script exited before printing ${pattern}:\n${output.slice(-3000)}`);
        if (Date.now() > deadline) throw new Error(`no ${pattern} within ${timeoutMs} ms:\n${output.slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    leftovers: () => processesWithEnv(PROBE_VARIABLE, probe),
    kill() {
      for (const pid of processesWithEnv(PROBE_VARIABLE, probe)) {
        try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
      }
    },
  };
}

/** Waits until every process of the run is gone, or returns the pids still alive after timeoutMs. */
export async function leftoversAfter(run: ScriptRun, timeoutMs = 5_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const alive = run.leftovers().filter((pid) => !isZombie(pid));
    if (alive.length === 0 || Date.now() > deadline) return alive;
    await new Promise((r) => setTimeout(r, 200));
  }
}

function isZombie(pid: number): boolean {
  try {
    return /\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

/** Describes processes by pid, for a failure message. */
export function describeProcesses(pids: number[]): string {
  return pids.map((pid) => {
    try {
      return `${pid}: ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')}`;
    } catch {
      return `${pid}: (gone)`;
    }
  }).join('\n');
}

/** A stand-in for the Temporal CLI that passes the tool check but fails to start a server. */
export function brokenTemporalCli(dir: string): string {
  const path = join(dir, 'temporal-broken');
  writeFileSync(path, '#!/bin/sh\n[ "$1" = --version ] && { echo "temporal version 0.0.0-broken"; exit 0; }\necho "cannot start: broken on purpose" >&2\nexit 3\n', { mode: 0o755 });
  return path;
}
