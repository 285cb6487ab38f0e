import pino from 'pino';

export type Logger = pino.Logger;

/** One structured JSON logger per process; `service` names the process in every line. */
export function createLogger(service: string): Logger {
  return pino({
    name: service,
    level: process.env.LOG_LEVEL ?? 'info',
    redact: { paths: ['customerEmail', '*.customerEmail', 'payment.token', '*.token'], censor: '[redacted]' },
  });
}
