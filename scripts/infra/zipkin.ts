import { spawnLogged, waitForPort, type StartedService } from './spawn';

/**
 * Zipkin server (tools/ensure-tools.sh fetches it from Maven Central) as `npm run dev`'s trace
 * viewer: one Java process on loopback, traces in memory (gone when it stops), its UI at /zipkin/,
 * its span API at /api/v2/spans where our processes send their spans (OTEL_EXPORTER_ZIPKIN_ENDPOINT).
 */
/**
 * Spans the in-memory store keeps (Zipkin's MEM_MAX_SPANS; it drops the oldest traces past it).
 * Zipkin's default, 500 000, does not fit the 256 MB heap the wrapper gives it (tools/ensure-tools.sh):
 * under `npm run dev` load (npm run bench:orders against it) it runs out of heap long before.
 */
export const ZIPKIN_MAX_SPANS = 50_000;

export async function startZipkin(opts: { bin: string; port: number; logFile: string }): Promise<StartedService & { uiUrl: string; spansEndpoint: string }> {
  const proc = spawnLogged(opts.bin, [
    `--armeria.ports[0].ip=127.0.0.1`, `--armeria.ports[0].port=${opts.port}`, '--armeria.ports[0].protocols=http',
  ], opts.logFile, { env: { ...process.env, STORAGE_TYPE: 'mem', MEM_MAX_SPANS: String(ZIPKIN_MAX_SPANS), SELF_TRACING_ENABLED: 'false' } });
  try {
    await waitForPort(opts.port, 'Zipkin', 120_000, proc.child);
  } catch (err) {
    await proc.stop();
    throw new Error(`${(err as Error).message}; see ${opts.logFile}`);
  }
  const base = `http://127.0.0.1:${opts.port}`;
  return { name: 'zipkin', url: base, uiUrl: `${base}/zipkin/`, spansEndpoint: `${base}/api/v2/spans`, stop: proc.stop, crash: proc.crash };
}
