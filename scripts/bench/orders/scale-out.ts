import { setTimeout as sleep } from 'node:timers/promises';
import type { DevSystem } from '../../dev/system';
import { freePort } from '../../infra';
import { progress } from '../rig';

/**
 * The scale-out step's second worker and second API, started beside the first ones on the same
 * Temporal, Postgres and NATS (the relay and consumers stay single). Each gets its own port (the
 * API's HTTP port, the worker's /healthz), and is ready once it answers there: the worker only
 * listens after it has bundled its workflow code and registered with Temporal.
 */
export interface ExtraInstances {
  apiUrl: string;
  pids(): Record<string, number | undefined>;
  stop(): Promise<void>;
}

export async function startExtraInstances(system: DevSystem, timeoutMs = 180_000): Promise<ExtraInstances> {
  const apiPort = await freePort();
  const workerHealthPort = await freePort();
  progress(`scale-out: starting a second worker (/healthz on ${workerHealthPort}) and a second API (port ${apiPort})`);
  const worker = system.addInstance('worker', { METRICS_PORT: String(workerHealthPort) });
  const api = system.addInstance('api', { API_PORT: String(apiPort) });
  const stop = async () => {
    // Newest first; removeInstance stops the newest instance of each.
    await system.removeInstance('api');
    await system.removeInstance('worker');
  };
  try {
    for (const [what, port, proc] of [['second worker', workerHealthPort, worker], ['second API', apiPort, api]] as const) {
      const deadline = Date.now() + timeoutMs;
      while (!(await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false))) {
        if (proc.exitedWith) throw new Error(`the ${what} exited during start-up (${proc.exitedWith}); see its log in the bench's temp dir (--keep)`);
        if (Date.now() > deadline) throw new Error(`the ${what} did not answer /healthz on port ${port} within ${timeoutMs / 1000} s`);
        await sleep(300);
      }
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { apiUrl: `http://127.0.0.1:${apiPort}`, pids: () => ({ 'worker#2': worker.pid, 'api#2': api.pid }), stop };
}
