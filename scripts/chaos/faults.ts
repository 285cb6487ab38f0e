import { bearer } from '../../common/clients/http-json';
import { loadConfig } from '../../common/config';
import { connectNats } from '../../common/nats';
import { eventSubject } from '../../common/events';
import type { ProcessName } from '../../common/processes';
import type { DevSystem } from '../dev/system';

/**
 * What the chaos harness does to the system while orders run, as a timed schedule: kill -9 of
 * each process (the dev supervisor restarts it), NATS stopped, Postgres and the Temporal server
 * killed and restarted, peers slower than the activities' timeout (ambiguous outcomes), poison
 * events, and a second worker and relay for part of the run.
 */
export interface FaultLog {
  at: number;
  what: string;
}

export interface Schedule {
  /** Seconds from the start of the run, and the fault. */
  steps: { atS: number; what: string; run(system: DevSystem, log: (what: string) => void): Promise<void> }[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const crash = (name: ProcessName) => ({
  what: `kill -9 ${name}`,
  run: async (system: DevSystem) => { for (const p of system.instances(name)) p.crash(); },
});

const outage = (service: 'nats' | 'postgres' | 'temporal', downS: number, how: 'stop' | 'crash') => ({
  what: `${how === 'crash' ? 'kill -9' : 'stop'} ${service}, back after ${downS}s`,
  run: async (system: DevSystem) => {
    const part = system.infra[service];
    if (!part) return;
    await (how === 'crash' ? part.crash() : part.stop());
    await sleep(downS * 1_000);
    await part.start();
  },
});

/** The peer answers later than the activity waits (HTTP_CLIENT_TIMEOUT_MS), for a while: outcomes are ambiguous. */
const slowPeer = (peer: 'inventory' | 'payment', forS: number) => ({
  what: `${peer} slower than the activity timeout for ${forS}s`,
  run: async (system: DevSystem) => {
    const url = `http://127.0.0.1:${system.ports.http[peer]}/test/faults`;
    const put = async (latencyMs: number) => {
      // The peer may be restarting after an earlier fault: keep asking for a while.
      for (let attempt = 0; ; attempt++) {
        const headers = { 'content-type': 'application/json', ...bearer(peer === 'inventory' ? system.env.INVENTORY_TOKEN! : system.env.PAYMENT_TOKEN!) };
        const res = await fetch(url, { method: 'PUT', headers, body: JSON.stringify({ latencyMs }) }).catch((err: Error) => err);
        if (res instanceof Response && res.ok) return;
        if (attempt >= 60) throw new Error(`could not set ${peer}'s faults: ${res instanceof Response ? `HTTP ${res.status}` : res.message}`);
        await sleep(500);
      }
    };
    await put(6_000);
    await sleep(forS * 1_000);
    await put(0);
  },
});

export const POISON_SUBJECT_TYPE = 'OrderConfirmed';

/** Malformed events published straight to the stream, as a broken or hostile publisher would. */
const poison = (count: number, counter: { injected: number }) => ({
  what: `${count} poison events on the stream`,
  run: async (system: DevSystem) => {
    const nc = await connectNats(loadConfig({ ...process.env, ...system.env }), 'admin', { name: 'chaos' });
    try {
      const { jetstream } = await import('@nats-io/jetstream');
      const js = jetstream(nc);
      for (let i = 0; i < count; i++) {
        await js.publish(eventSubject(loadConfig().EVENTS_SUBJECT_PREFIX, POISON_SUBJECT_TYPE), new TextEncoder().encode(`{"not":"an event","n":${i}}`));
        counter.injected += 1;
      }
    } finally {
      await nc.close();
    }
  },
});

const twoOf = (name: 'worker' | 'relay', forS: number) => ({
  what: `a second ${name} for ${forS}s`,
  run: async (system: DevSystem) => {
    system.addInstance(name);
    await sleep(forS * 1_000);
    await system.removeInstance(name);
  },
});

/** The full schedule (`npm run chaos`) or a short one for CI; `counter` counts the poison injected. */
export function chaosSchedule(kind: 'full' | 'ci', counter: { injected: number }): Schedule {
  const full = kind === 'full';
  const s = (atS: number, step: { what: string; run(system: DevSystem): Promise<void> }) => ({ atS: full ? atS : atS / 4, ...step });
  return {
    steps: [
      s(8, twoOf('worker', full ? 60 : 20)),
      s(10, crash('worker')),
      s(20, crash('relay')),
      s(30, crash('email')),
      s(40, crash('analytics')),
      s(50, crash('api')),
      s(60, slowPeer('inventory', full ? 20 : 8)),
      s(70, crash('inventory')),
      s(85, twoOf('relay', full ? 60 : 20)),
      s(90, crash('payment')),
      s(100, slowPeer('payment', full ? 20 : 8)),
      s(110, poison(3, counter)),
      s(120, outage('nats', full ? 30 : 5, 'stop')),
      s(170, outage('postgres', full ? 5 : 2, 'crash')),
      s(200, outage('temporal', full ? 5 : 2, 'crash')),
      ...(full ? [s(240, outage('nats', 180, 'stop'))] : []),
    ],
  };
}

/** Runs the schedule against the system; each step in its own time, logged as it starts and ends. */
export async function runSchedule(system: DevSystem, schedule: Schedule, startedAt: number, log: (entry: FaultLog) => void): Promise<void> {
  await Promise.all(schedule.steps.map(async (step) => {
    await sleep(Math.max(0, startedAt + step.atS * 1_000 - Date.now()));
    log({ at: Date.now() - startedAt, what: `start: ${step.what}` });
    try {
      await step.run(system, (what) => log({ at: Date.now() - startedAt, what }));
      log({ at: Date.now() - startedAt, what: `done: ${step.what}` });
    } catch (err) {
      log({ at: Date.now() - startedAt, what: `FAILED: ${step.what}: ${(err as Error).message}` });
    }
  }));
}
