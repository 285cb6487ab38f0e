import closeWithGrace from 'close-with-grace';
import { createLogger, type Logger } from './logger';

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
  const startup = start(logger).catch((err: unknown) => {
    logger.fatal({ err }, `${name} failed to start`);
    process.exit(1);
  });
  closeWithGrace({ delay: 15_000, logger: { error: (m: unknown) => logger.error(m) } }, async ({ signal, err }) => {
    if (err) logger.error({ err }, `${name} stopping after an unexpected error`);
    else logger.info({ signal }, `${name} stopping`);
    const running = await startup;
    if (running) await running.stop();
    logger.info(`${name} stopped`);
  });
}
