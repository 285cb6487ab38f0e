import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEV_PEER_TOKENS, loadConfig } from '../../common/config';
import { setupStreams } from '../../common/nats';
import { devNatsAuthorization } from '../../common/nats-server-config';
import { natsScope } from '../../common/nats-users';
import { PROCESSES, type ProcessName } from '../../common/processes';
import { migrate } from '../../prisma/migrate';
import { ensureTools, REPO_ROOT, startNats, startPostgres, startSmtpSink, startTemporalDevServer, type StartedService, type TemporalDevServerOptions } from '../infra';
import type { PostgresServer } from '../infra/postgres';
import { startZipkin } from '../infra/zipkin';
import type { ReceivedMail } from '../infra/smtp-sink';
import { ensureDevApiKeys, type DevApiKeys } from './dev-api-keys';
import { devPorts } from './ports';
import { SupervisedProcess } from './supervisor';

/**
 * The whole system on this machine, as `npm run dev` runs it and as the chaos harness drives it:
 * Postgres, NATS JetStream, the Temporal dev server and an SMTP sink (each unless the
 * environment points at an existing one), the migrations, and every process of
 * common/processes.ts as a supervised child (restarted when it crashes).
 */
export interface DevSystemOptions {
  dataDir: string;
  portOffset: number;
  say(message: string): void;
  /** Settings for our processes on top of what the system wires up. */
  processEnv?: Record<string, string>;
  /** Write each process's output to <logDir>/<name>.log instead of the console. */
  logDir?: string;
  onMail?(mail: ReceivedMail, file: string): void;
  /** Aborting it stops a start-up in progress: what was started is stopped, and the start rejects. */
  signal?: AbortSignal;
  /** The Temporal dev server: in memory instead of its file (benchmarks), other SQLite pragmas for the file. */
  temporal?: Pick<TemporalDevServerOptions, 'sqlitePragmas'> & { inMemory?: boolean };
  /**
   * Start the trace viewer (Zipkin, scripts/infra/zipkin.ts) and send every process's spans to it
   * (`npm run dev`). Without it, or when OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_ZIPKIN_ENDPOINT
   * (environment or processEnv) names a collector, none is started; with neither, tracing is off.
   */
  traceViewer?: boolean;
}

/** An infrastructure part that can be stopped, killed and started again on the same state. */
export interface RestartableService {
  readonly name: string;
  readonly url: string;
  start(): Promise<void>;
  /** Clean stop. */
  stop(): Promise<void>;
  /** kill -9, as a crash would; start() brings it back on the same data. */
  crash(): Promise<void>;
}

export interface DevSystem {
  env: Record<string, string>;
  ports: ReturnType<typeof devPorts>;
  temporalUi: string;
  /** The trace viewer's UI, when this system started one. */
  traceViewerUrl?: string;
  /** A shop's and an operator's API key (scripts/dev/dev-api-keys.ts). */
  apiKeys: DevApiKeys;
  infra: Partial<Record<'postgres' | 'nats' | 'temporal', RestartableService>>;
  /** Running instances of each process, by name. */
  instances(name: ProcessName): SupervisedProcess[];
  /** Starts one more instance of a process (a second worker or relay); it has no metrics port. `env`: its own settings (a second API's API_PORT). */
  addInstance(name: ProcessName, env?: Record<string, string>): SupervisedProcess;
  /** Stops the newest extra instance of a process. */
  removeInstance(name: ProcessName): Promise<void>;
  stop(): Promise<void>;
}

function restartable(name: string, launch: () => Promise<StartedService & { crash?(): Promise<void> }>): RestartableService & { url: string } {
  let current: (StartedService & { crash?(): Promise<void> }) | undefined;
  const service = {
    name,
    url: '',
    async start() {
      // After a crash, the old process's children (Postgres backends) may take a moment to go.
      for (let attempt = 1; ; attempt++) {
        try {
          current = await launch();
          break;
        } catch (err) {
          if (attempt >= 10) throw err;
          await new Promise((r) => setTimeout(r, 1_000));
        }
      }
      service.url = current.url;
    },
    async stop() {
      await current?.stop();
      current = undefined;
    },
    async crash() {
      if (!current?.crash) throw new Error(`${name} cannot be crashed on purpose`);
      await current.crash();
      current = undefined;
    },
  };
  return service;
}

export async function startDevSystem(opts: DevSystemOptions): Promise<DevSystem> {
  const { dataDir, say } = opts;
  const ports = devPorts(opts.portOffset);
  const env: Record<string, string> = {};
  const infra: DevSystem['infra'] = {};
  const extras: StartedService[] = [];
  const running = new Map<ProcessName, SupervisedProcess[]>();
  const stopAll = async () => {
    await Promise.all([...running.values()].flat().map((p) => p.stop()));
    for (const s of [...extras, ...[infra.temporal, infra.nats, infra.postgres].filter((s) => s !== undefined)]) {
      await s.stop().catch((err: unknown) => say(`stopping ${s.name}: ${(err as Error).message}`));
    }
  };
  mkdirSync(dataDir, { recursive: true });
  const checkpoint = () => {
    if (opts.signal?.aborted) throw new Error('start-up interrupted');
  };

  try {
    const given = (name: string) => opts.processEnv?.[name] || process.env[name];
    const collector = given('OTEL_EXPORTER_OTLP_ENDPOINT') || given('OTEL_EXPORTER_ZIPKIN_ENDPOINT');
    const startViewer = opts.traceViewer === true && !collector;
    const needed = [
      ...(process.env.TEMPORAL_ADDRESS ? [] : ['temporal' as const]), ...(process.env.NATS_URL ? [] : ['nats' as const]),
      ...(startViewer ? ['zipkin' as const] : []),
    ];
    if (needed.length) say(`getting local tools: ${needed.join(', ')} (built once, then cached)`);
    const tools = needed.length ? await ensureTools(needed) : {};
    checkpoint();

    if (process.env.DATABASE_URL) env.DATABASE_URL = process.env.DATABASE_URL;
    else {
      let server: PostgresServer | undefined;
      const pg = restartable('postgres', async () => (server = await startPostgres({ dir: join(dataDir, 'postgres'), port: ports.postgres, persistent: true })));
      infra.postgres = pg;
      await pg.start();
      await server!.ensureDatabase('orders');
      env.DATABASE_URL = server!.urlFor('orders');
      say(`Postgres on ${env.DATABASE_URL}`);
      checkpoint();
    }
    if (process.env.NATS_URL) env.NATS_URL = process.env.NATS_URL;
    else {
      // Our users (common/nats-users.ts) with their dev passwords, for the configured stream and prefix.
      const authorization = devNatsAuthorization(natsScope(loadConfig({ ...process.env, ...opts.processEnv })));
      const nats = restartable('nats', () => startNats({ bin: tools.NATS_SERVER_BIN!, dir: join(dataDir, 'nats'), port: ports.nats, logFile: join(dataDir, 'nats.log'), authorization }));
      infra.nats = nats;
      await nats.start();
      env.NATS_URL = nats.url;
      say(`NATS JetStream on ${nats.url}`);
      checkpoint();
    }
    let temporalUi = 'your Temporal cluster\'s Web UI';
    if (process.env.TEMPORAL_ADDRESS) env.TEMPORAL_ADDRESS = process.env.TEMPORAL_ADDRESS;
    else {
      let uiUrl = '';
      const temporal = restartable('temporal', async () => {
        const started = await startTemporalDevServer({
          bin: tools.TEMPORAL_CLI_BIN!, port: ports.temporal, uiPort: ports.temporalUi, codecEndpoint: ports.codecEndpoint,
          ...(opts.temporal?.inMemory ? {} : { dbFile: join(dataDir, 'temporal.db') }), sqlitePragmas: opts.temporal?.sqlitePragmas,
          logFile: join(dataDir, 'temporal.log'),
        });
        uiUrl = started.uiUrl!;
        return started;
      });
      infra.temporal = temporal;
      await temporal.start();
      env.TEMPORAL_ADDRESS = temporal.url;
      temporalUi = uiUrl;
      say(`Temporal dev server on ${temporal.url}, Web UI ${temporalUi}`);
      checkpoint();
    }
    if (process.env.SMTP_URL) env.SMTP_URL = process.env.SMTP_URL;
    else {
      const mailDir = join(dataDir, 'mail');
      mkdirSync(mailDir, { recursive: true });
      const smtp = await startSmtpSink({
        port: ports.smtp,
        onMail: (mail) => {
          const file = join(mailDir, `${Date.now()}-${(mail.messageId ?? 'message').replace(/[^A-Za-z0-9@.-]/g, '')}.eml`);
          writeFileSync(file, mail.raw);
          opts.onMail?.(mail, file);
        },
      });
      extras.push({ name: 'smtp', url: smtp.url, stop: smtp.stop });
      env.SMTP_URL = smtp.url;
      say(`SMTP sink on ${smtp.url} (messages saved in ${mailDir})`);
    }

    let traceViewerUrl: string | undefined;
    if (collector) {
      for (const name of ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_ZIPKIN_ENDPOINT']) if (given(name)) env[name] = given(name)!;
      say(`traces go to ${collector}`);
    } else if (startViewer) {
      const zipkin = await startZipkin({ bin: tools.ZIPKIN_BIN!, port: ports.traceViewer, logFile: join(dataDir, 'zipkin.log') });
      extras.push(zipkin);
      env.OTEL_EXPORTER_ZIPKIN_ENDPOINT = zipkin.spansEndpoint;
      traceViewerUrl = zipkin.uiUrl;
      say(`Zipkin (traces, kept in memory) on ${zipkin.uiUrl}`);
      checkpoint();
    }

    const applied = await migrate(env.DATABASE_URL);
    say(applied.length ? `applied migrations: ${applied.join(', ')}` : 'database schema is up to date');
    const apiKeys = await ensureDevApiKeys(env.DATABASE_URL, dataDir);
    checkpoint();
    Object.assign(env, ports.processEnv, { INVENTORY_SEED_SAMPLE_CATALOG: 'true', ...DEV_TOOLS_PEER_ENV }, opts.processEnv);
    env.SERVICE_TEST_MODE = process.env.SERVICE_TEST_MODE ?? env.SERVICE_TEST_MODE ?? 'true';
    if (env.SERVICE_TEST_MODE === 'true') say('inventory and payment run in test mode: /test/faults and /test/3ds/{orderId} are on (SERVICE_TEST_MODE=false turns them off)');
    // The streams, as the admin user (the processes may not create them); updates their settings too.
    await setupStreams(loadConfig({ ...process.env, ...env }));
    say('NATS streams are set up');
    checkpoint();

    const launch = (spec: (typeof PROCESSES)[number], instance: number, instanceEnv: Record<string, string> = {}) => {
      const metrics = {
        ...('metricsPort' in spec && instance === 0 ? { METRICS_PORT: String(ports.health(spec)) } : {}),
        ...('temporalMetricsPort' in spec && instance === 0 ? { TEMPORAL_METRICS_PORT: String(ports.temporalMetrics) } : {}),
      };
      const name = instance === 0 ? spec.name : `${spec.name}#${instance + 1}`;
      const supervised = new SupervisedProcess({
        // One node process per service, TypeScript loaded by tsx's hook (a crash kills the service itself).
        name, command: process.execPath, args: ['--import', 'tsx', join(REPO_ROOT, spec.entry)], cwd: REPO_ROOT,
        env: { ...process.env, ...env, ...DEV_CALLER_ENV[spec.name], ...metrics, ...instanceEnv }, say,
        ...(opts.logDir ? { logFile: join(opts.logDir, `${name.replace('#', '-')}.log`) } : {}),
      });
      supervised.start();
      running.set(spec.name, [...(running.get(spec.name) ?? []), supervised]);
      return supervised;
    };
    for (const spec of PROCESSES) launch(spec, 0);
    for (const spec of PROCESSES) {
      checkpoint();
      await waitHealthy(`http://127.0.0.1:${ports.health(spec)}/healthz`, spec.name, () => running.get(spec.name)![0]!.exitedWith);
    }

    return {
      env, ports, temporalUi, apiKeys, infra, ...(traceViewerUrl ? { traceViewerUrl } : {}),
      instances: (name) => running.get(name) ?? [],
      addInstance: (name, instanceEnv) => launch(PROCESSES.find((p) => p.name === name)!, running.get(name)?.length ?? 0, instanceEnv),
      async removeInstance(name) {
        const list = running.get(name) ?? [];
        if (list.length < 2) throw new Error(`${name} has no extra instance to remove`);
        await list.pop()!.stop();
      },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** The peers' dev callers: the API and the worker each present their own token; tools (scripts, curl) theirs. */
const DEV_TOOLS_PEER_ENV = { INVENTORY_TOKEN: DEV_PEER_TOKENS.inventory.tools, PAYMENT_TOKEN: DEV_PEER_TOKENS.payment.tools };
const DEV_CALLER_ENV: Partial<Record<ProcessName, Record<string, string>>> = {
  api: { INVENTORY_TOKEN: DEV_PEER_TOKENS.inventory.api, PAYMENT_TOKEN: DEV_PEER_TOKENS.payment.api },
  worker: { INVENTORY_TOKEN: DEV_PEER_TOKENS.inventory.worker, PAYMENT_TOKEN: DEV_PEER_TOKENS.payment.worker },
};

async function waitHealthy(url: string, what: string, exited: () => string | undefined, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await fetch(url).then((r) => r.ok, () => false)) return;
    const exit = exited();
    if (exit) throw new Error(`${what} exited during start-up (${exit}); see its output above`);
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${what} did not become healthy at ${url} within ${timeoutMs / 1000}s`);
}
