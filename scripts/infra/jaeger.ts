import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnLogged, waitForPort, type StartedService } from './spawn';

export interface JaegerPorts {
  /** OTLP/HTTP receiver our processes send spans to (…/v1/traces). */
  otlpHttp: number;
  /** The query service: the web UI and its HTTP API (/api/traces, /api/services). */
  ui: number;
  /** The query service's gRPC API (unused by us; bound so two systems side by side do not clash). */
  grpc: number;
}

/**
 * Jaeger v2 (tools/ensure-tools.sh builds it) as `npm run dev`'s trace viewer: one process
 * receiving OTLP/HTTP (JSON, as our exporters send it), keeping traces in memory (gone when it
 * stops: dev only), serving the query API and UI. Everything on loopback; no sampling, pprof or
 * self-tracing.
 */
export function jaegerConfig(ports: JaegerPorts): string {
  return `# Written by scripts/infra/jaeger.ts for npm run dev; rewritten at every start.
service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    resource:
      service.name: jaeger
    metrics:
      level: none
    logs:
      level: warn
extensions:
  jaeger_storage:
    backends:
      dev_memory:
        memory:
          max_traces: 100000
  jaeger_query:
    storage:
      traces: dev_memory
    enable_tracing: false
    http:
      endpoint: 127.0.0.1:${ports.ui}
    grpc:
      endpoint: 127.0.0.1:${ports.grpc}
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:${ports.otlpHttp}
processors:
  batch:
    timeout: 200ms
exporters:
  jaeger_storage_exporter:
    trace_storage: dev_memory
`;
}

export async function startJaeger(opts: { bin: string; dir: string; ports: JaegerPorts; logFile: string }): Promise<StartedService & { uiUrl: string; otlpEndpoint: string }> {
  mkdirSync(opts.dir, { recursive: true });
  const configFile = join(opts.dir, 'jaeger.yaml');
  writeFileSync(configFile, jaegerConfig(opts.ports));
  const proc = spawnLogged(opts.bin, ['--config', configFile], opts.logFile);
  try {
    await waitForPort(opts.ports.otlpHttp, 'Jaeger OTLP receiver', 60_000, proc.child);
    await waitForPort(opts.ports.ui, 'Jaeger UI', 60_000, proc.child);
  } catch (err) {
    await proc.stop();
    throw new Error(`${(err as Error).message}; see ${opts.logFile}`);
  }
  const uiUrl = `http://127.0.0.1:${opts.ports.ui}`;
  return { name: 'jaeger', url: uiUrl, uiUrl, otlpEndpoint: `http://127.0.0.1:${opts.ports.otlpHttp}`, stop: proc.stop, crash: proc.crash };
}
