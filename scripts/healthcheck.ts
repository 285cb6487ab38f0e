import { PROCESSES } from '../common/processes';

/**
 * The container health check of the production image (Dockerfile HEALTHCHECK, and the
 * healthchecks in docker-compose.yml): `node dist/scripts/healthcheck.js`. Asks the process in
 * this container for GET /healthz and exits 0 on a 2xx answer, 1 otherwise (not answering within
 * 3 s, refused, any other status), with one line saying why.
 *
 * Which URL, first match wins:
 *   1. HEALTHCHECK_URL, as given (for anything else, e.g. another path or host);
 *   2. PROCESS=<name> from common/processes.ts: a process with an HTTP API is asked on its port
 *      (API_PORT, INVENTORY_PORT or PAYMENT_PORT, else that process's default), one without on
 *      METRICS_PORT (else its default metrics port); docker-compose.yml sets PROCESS per service;
 *   3. without PROCESS: the first of METRICS_PORT, API_PORT, INVENTORY_PORT, PAYMENT_PORT that is
 *      set, else 3000 (the image's default command is the API).
 * Always on 127.0.0.1: the check runs inside the process's own container.
 */
export const TIMEOUT_MS = 3_000;
const PORT_VARIABLES = ['METRICS_PORT', 'API_PORT', 'INVENTORY_PORT', 'PAYMENT_PORT'] as const;

export function healthcheckUrl(env: NodeJS.ProcessEnv): string {
  if (env.HEALTHCHECK_URL) return env.HEALTHCHECK_URL;
  const url = (port: string | number) => `http://127.0.0.1:${port}/healthz`;
  if (env.PROCESS) {
    const spec = PROCESSES.find((p) => p.name === env.PROCESS);
    if (!spec) throw new Error(`PROCESS=${env.PROCESS} is not one of ${PROCESSES.map((p) => p.name).join(', ')}`);
    if ('httpPort' in spec) return url(env[spec.httpPort.env] || spec.httpPort.default);
    return url(env.METRICS_PORT || spec.metricsPort);
  }
  const set = PORT_VARIABLES.find((name) => env[name]);
  return url(set ? env[set]! : 3000);
}

/** Runs the check once; resolves to the exit code (0 healthy, 1 not), having said why on `log`. */
export async function check(env: NodeJS.ProcessEnv, log: Pick<Console, 'log' | 'error'> = console, timeoutMs = TIMEOUT_MS): Promise<0 | 1> {
  let target: string;
  try {
    target = healthcheckUrl(env);
  } catch (err) {
    log.error(`healthcheck: ${(err as Error).message}`);
    return 1;
  }
  try {
    const res = await fetch(target, { signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    if (res.ok) {
      log.log(`healthcheck: ${target} answered ${res.status}`);
      return 0;
    }
    log.error(`healthcheck: ${target} answered ${res.status} ${res.statusText}`);
    return 1;
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const why = e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (e.cause?.code ?? e.cause?.message ?? e.message);
    log.error(`healthcheck: ${target} unreachable: ${why}`);
    return 1;
  }
}

if (require.main === module) {
  check(process.env).then((code) => process.exit(code));
}
