import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../../common/config';
import type { RunningProcess } from '../../common/run-process';
import { freePort } from '../infra';
import { STALL_MS } from './options';
import { progress } from './rig';

/** The outbox relay as its own process, as it runs in production (steps 2 and 3 of the benchmark). */

const repoRoot = join(__dirname, '..', '..');
const LEADER_METRIC = /^outbox_relay_leader\{process="outbox-relay"\} 1$/m;

export interface RelayProcess extends RunningProcess {
  /** Throws if the process has exited, so a measurement fails at once instead of stalling. */
  assertRunning(): void;
}

function prefixLines(stream: Readable, prefix: string): void {
  createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => process.stderr.write(`${prefix} ${line}\n`));
}

/**
 * Starts workers/outbox-relay.main.ts as a child process, as it runs in production, and resolves
 * once it is the leader (holds the advisory lock), as its /metrics reports.
 */
export async function startRelayProcess(config: Config): Promise<RelayProcess> {
  const metricsPort = await freePort();
  const child = spawn(join(repoRoot, 'node_modules/.bin/tsx'), ['workers/outbox-relay.main.ts'], {
    cwd: repoRoot,
    env: {
      ...process.env,
      DATABASE_URL: config.DATABASE_URL,
      NATS_URL: config.NATS_URL,
      EVENTS_STREAM: config.EVENTS_STREAM,
      EVENTS_SUBJECT_PREFIX: config.EVENTS_SUBJECT_PREFIX,
      RELAY_BATCH_SIZE: String(config.RELAY_BATCH_SIZE),
      METRICS_PORT: String(metricsPort),
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: tsx runs the relay in a grandchild, which a SIGKILL of tsx alone would orphan.
    detached: true,
  });
  // The relay logs to stdout, but our stdout carries the results (and --json): both go to stderr.
  prefixLines(child.stdout!, '[relay]');
  prefixLines(child.stderr!, '[relay]');
  let exitStatus: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('error', (err) => { exitStatus ??= `could not start: ${err.message}`; resolve(); });
    child.once('exit', (code, signal) => { exitStatus ??= signal ?? `code ${code}`; resolve(); });
  });

  let stopping: Promise<void> | undefined;
  const relay: RelayProcess = {
    assertRunning() {
      if (exitStatus !== undefined) throw new Error(`the relay process exited (${exitStatus})`);
    },
    stop: () => stopping ??= (async () => {
      if (exitStatus !== undefined) return;
      child.kill('SIGTERM'); // tsx passes it on; the relay finishes its batch and exits
      const killer = setTimeout(() => {
        progress('relay process still running 10 s after SIGTERM: SIGKILL');
        try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* already gone */ }
      }, 10_000);
      await exited;
      clearTimeout(killer);
    })(),
  };

  try {
    const deadline = performance.now() + STALL_MS;
    for (;;) {
      relay.assertRunning();
      const metrics = await fetch(`http://127.0.0.1:${metricsPort}/metrics`).then((r) => r.text(), () => '');
      if (LEADER_METRIC.test(metrics)) return relay;
      if (performance.now() > deadline) throw new Error(`the relay process was not the leader within ${STALL_MS / 1000} s`);
      await sleep(100);
    }
  } catch (err) {
    await relay.stop();
    throw err;
  }
}
