import closeWithGrace from 'close-with-grace';
import { loadConfig, tracingSettings } from './config';
import { createLogger, type Logger } from './logger';
import { startTracing, type Tracing } from './tracing';

/** What every process entry point returns: a way to stop it cleanly. */
export interface RunningProcess {
  stop(): Promise<void>;
}

/**
 * Runs one of our processes (API, worker, relay, consumer, peer service) until SIGTERM/SIGINT,
 * then stops it gracefully. Each entry point file calls this once, so every process shuts down
 * the same way: stop taking new work, finish what is in flight, close connections.
 */
export function runProcess(name: string, start: (logger: Logger) => Promise<RunningProcess>): void {
  const logger = createLogger(name);
  let tracing: Tracing | undefined;
  const startup = (async () => {
    // Before anything else: the tracer provider must be in place before the first span.
    const settings = tracingSettings(loadConfig(), name);
    tracing = startTracing(settings);
    if (tracing.enabled) logger.info({ endpoint: settings.endpoint ?? settings.zipkinEndpoint, serviceName: settings.serviceName }, settings.endpoint ? 'sending traces over OTLP' : 'sending traces to Zipkin');
    return start(logger);
  })().catch((err: unknown) => {
    logger.fatal({ err }, `${name} failed to start`);
    process.exit(1);
  });
  closeWithGrace({ delay: 15_000, logger: { error: (m: unknown) => logger.error(m) } }, async ({ signal, err }) => {
    if (err) logger.error({ err }, `${name} stopping after an unexpected error`);
    else logger.info({ signal }, `${name} stopping`);
    const running = await startup;
    if (running) await running.stop();
    await tracing?.shutdown().catch((e: unknown) => logger.warn({ err: (e as Error).message }, 'could not send the last spans'));
    logger.info(`${name} stopped`);
  });
}
