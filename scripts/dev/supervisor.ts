import type { ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { spawnTracked, stopChild } from '../infra/spawn';
import { printLogLines } from './log-lines';

export interface SupervisedOptions {
  name: string;
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  say(message: string): void;
  /** Append the output to this file instead of printing it. */
  logFile?: string;
  /** First restart delay; doubles per crash up to maxDelayMs, back to the start after stableMs up. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  stableMs?: number;
}

/**
 * Keeps one of our processes running the way a process supervisor would: when it exits without
 * being asked to, it is started again after a growing delay, with a log line each time.
 */
export class SupervisedProcess {
  private child: ChildProcess | undefined;
  private stopping = false;
  private crashes = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  restarts = 0;

  constructor(private readonly opts: SupervisedOptions) {}

  start(): void {
    const startedAt = Date.now();
    const child = spawnTracked(this.opts.command, this.opts.args, { cwd: this.opts.cwd, env: this.opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    if (this.opts.logFile) {
      const log = createWriteStream(this.opts.logFile, { flags: 'a' });
      child.stdout!.pipe(log, { end: false });
      child.stderr!.pipe(log, { end: false });
      child.once('close', () => log.end());
    } else {
      printLogLines(this.opts.name, child.stdout!);
      printLogLines(this.opts.name, child.stderr!);
    }
    child.once('exit', (code, signal) => {
      if (this.stopping) return;
      const stableMs = this.opts.stableMs ?? 60_000;
      this.crashes = Date.now() - startedAt > stableMs ? 1 : this.crashes + 1;
      const delay = Math.min((this.opts.baseDelayMs ?? 1_000) * 2 ** (this.crashes - 1), this.opts.maxDelayMs ?? 30_000);
      this.opts.say(`${this.opts.name} exited unexpectedly (${signal ?? `code ${code}`}); restarting in ${(delay / 1000).toFixed(1)}s (crash ${this.crashes} in a row)`);
      this.restartTimer = setTimeout(() => {
        this.restarts += 1;
        this.start();
      }, delay);
    });
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Exited and not (yet) restarted: for start-up checks that should fail fast. */
  get exitedWith(): string | undefined {
    const c = this.child;
    if (!c || (c.exitCode === null && c.signalCode === null)) return undefined;
    return c.signalCode ?? `code ${c.exitCode}`;
  }

  /** kill -9 the running process, as a crash would; the supervisor restarts it. */
  crash(): void {
    this.child?.kill('SIGKILL');
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    if (this.child) await stopChild(this.child, 15_000);
  }
}
