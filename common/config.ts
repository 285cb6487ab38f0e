import { z } from 'zod';
import { ConfigError } from './config-error';
import {
  callerTokens, databaseUrl, DEV_DATABASE_PASSWORD, DEV_PEER_TOKENS, devSecret, hasDevDatabasePassword, isDevPeerToken,
  namesDevPeerToken, optionalSecret, pairs, peerToken, secret, withoutDevSecrets,
} from './config-secrets';
import { TASK_QUEUE_DEFAULT } from './order/workflow-contract';
import { DEV_CODEC_KEYS, parseCodecKeys } from './temporal-codec';

export { ConfigError } from './config-error';
export { DEV_PEER_TOKENS } from './config-secrets';

/**
 * Every setting of every process, read from the environment once at start-up and validated.
 * Defaults match what `npm run dev` starts, so nothing needs setting locally.
 */
const port = z.coerce.number().int().min(0).max(65535);
const url = z.string().url();

/** A duration such as `500ms`, `20s`, `15m`, `2h` or `7d`, in milliseconds. */
const DURATION = /^(\d+)(ms|s|m|h|d)$/;
const duration = z.string().regex(DURATION, 'must be a duration such as 20s, 15m, 1h or 7d').transform((v) => {
  const [, n, unit] = v.match(DURATION)!;
  return Number(n) * { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[unit as 'ms' | 's' | 'm' | 'h' | 'd'];
});

/** Milliseconds of a duration written like the settings' (`10m`, `2h`), for command lines and query strings; throws with the accepted forms. */
export function parseDuration(text: string): number {
  const parsed = duration.safeParse(text);
  if (!parsed.success) throw new ConfigError(`"${text}" is not a duration such as 20s, 15m, 1h or 7d`);
  return parsed.data;
}

// ------------------------------------------------------------------------------------------------

const configSchema = z.object({
  DATABASE_URL: devSecret(`postgresql://postgres:${DEV_DATABASE_PASSWORD}@127.0.0.1:54329/orders`, databaseUrl(), hasDevDatabasePassword),
  INVENTORY_DATABASE_URL: optionalSecret(databaseUrl(), hasDevDatabasePassword),
  PAYMENT_DATABASE_URL: optionalSecret(databaseUrl(), hasDevDatabasePassword),
  /** How long a pool waits for a new database connection before the query fails (0s: no limit). */
  DATABASE_CONNECT_TIMEOUT: duration.default(5_000),
  /** Longest a statement may run before Postgres cancels it (statement_timeout; 0s: no limit). */
  DATABASE_STATEMENT_TIMEOUT: duration.default(15_000),
  /**
   * Connections of each process's order-database pool (API, worker, consumers). Every process's
   * pool together must stay under Postgres' max_connections (100 by default) when processes scale out.
   */
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(500).default(10),

  TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default(TASK_QUEUE_DEFAULT),
  /** Deadline of each call the API makes to Temporal (start, query, update, signal, health). */
  TEMPORAL_CALL_TIMEOUT: duration.default(10_000),
  /**
   * Keys of the Temporal payload codec (AES-256-GCM): `<keyId>:<base64 of 32 bytes>[,…]`. Keep
   * retired keys listed while histories encrypted with them are kept; the default is a dev key.
   */
  TEMPORAL_CODEC_KEYS: secret(z.string().default(DEV_CODEC_KEYS).transform((value, ctx) => {
    const { keys, problems } = parseCodecKeys(value);
    for (const message of problems) ctx.addIssue({ code: 'custom', message });
    if (!problems.length && !keys.length) ctx.addIssue({ code: 'custom', message: 'must list at least one key' });
    return keys;
  }), { devValue: DEV_CODEC_KEYS, isDevValue: (value) => value.includes(DEV_CODEC_KEYS.slice(DEV_CODEC_KEYS.indexOf(':') + 1)) }),
  /** Key id the codec encrypts with (one of TEMPORAL_CODEC_KEYS); unset: the first one listed. */
  TEMPORAL_CODEC_KEY_ID: z.string().min(1).optional(),
  /** Origins of the Temporal Web UI allowed to call the codec server (/codec), comma-separated. */
  TEMPORAL_UI_ORIGIN: z.string().default('http://127.0.0.1:8233,http://localhost:8233').transform((value, ctx) => {
    const origins = value.split(',').map((o) => o.trim()).filter(Boolean);
    for (const origin of origins) {
      if (!URL.canParse(origin) || new URL(origin).origin !== origin) ctx.addIssue({ code: 'custom', message: `"${origin}" is not an origin such as https://temporal.example.com (scheme, host and port only)` });
    }
    return origins;
  }),

  /**
   * The Temporal worker's capacity (workers/temporal-worker-tuning.ts; README, "Performance"):
   * workflows kept in its cache, workflow tasks / activities / local activities it runs at once,
   * and long polls it keeps open per task queue. The defaults are the SDK's (the cache fixed rather
   * than derived from the heap size); the benchmark found no better values on a 2-CPU machine.
   */
  TEMPORAL_WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).default(1_000),
  TEMPORAL_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: z.coerce.number().int().min(2).default(40),
  TEMPORAL_WORKER_MAX_CONCURRENT_ACTIVITIES: z.coerce.number().int().min(1).default(100),
  TEMPORAL_WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES: z.coerce.number().int().min(1).default(100),
  /** At most TEMPORAL_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS; at least 2 (a sticky and a normal poll). */
  TEMPORAL_WORKER_WORKFLOW_TASK_POLLERS: z.coerce.number().int().min(2).default(10),
  /** At most TEMPORAL_WORKER_MAX_CONCURRENT_ACTIVITIES. */
  TEMPORAL_WORKER_ACTIVITY_TASK_POLLERS: z.coerce.number().int().min(1).default(10),
  /** Activity slots a workflow task may reserve for eager dispatch (0: none; the server must enable it). */
  TEMPORAL_WORKER_MAX_EAGER_ACTIVITIES: z.coerce.number().int().min(0).default(3),
  /** One V8 context for all workflows of a thread (the SDK's default and advice; false only to rule it out). */
  TEMPORAL_WORKER_REUSE_V8_CONTEXT: z.stringbool().default(true),

  NATS_URL: z.string().min(1).default('nats://127.0.0.1:4222'),
  /** NATS user of this process; unset: the one for its role (common/nats-users.ts: relay, email, analytics, dlq, admin). */
  NATS_USER: z.string().min(1).optional(),
  /** Its password; unset: that user's dev default (`dev-nats-<user>`), refused when NODE_ENV=production. */
  NATS_PASSWORD: z.string().min(1).optional(),
  EVENTS_STREAM: z.string().regex(/^[A-Za-z0-9_-]+$/).default('ORDER_EVENTS'),
  EVENTS_SUBJECT_PREFIX: z.string().regex(/^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/).default('orders.events'),

  SMTP_URL: z.string().regex(/^smtps?:\/\//, 'must be smtp:// or smtps://').default('smtp://127.0.0.1:2525'),
  EMAIL_FROM: z.string().email().default('orders@shop.example'),
  /** The email consumer's pooled SMTP connections: at most this many open at once. */
  SMTP_POOL_MAX_CONNECTIONS: z.coerce.number().int().min(1).max(100).default(5),
  /** Mails one pooled SMTP connection sends before it is closed and replaced by a new one. */
  SMTP_POOL_MAX_MESSAGES: z.coerce.number().int().min(1).max(100_000).default(100),

  /** Interface our HTTP servers bind to; 0.0.0.0 in containers. */
  HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  API_PORT: port.default(3000),
  INVENTORY_PORT: port.default(3001),
  PAYMENT_PORT: port.default(3002),
  /** The inventory service adds the sample catalog's missing products at start (dev, compose). */
  INVENTORY_SEED_SAMPLE_CATALOG: z.stringbool().default(false),
  INVENTORY_URL: url.default('http://127.0.0.1:3001'),
  PAYMENT_URL: url.default('http://127.0.0.1:3002'),
  /** Service side: who may call the inventory / payment service, as `caller:token,caller:token`. */
  INVENTORY_CALLER_TOKENS: secret(callerTokens.prefault(pairs(DEV_PEER_TOKENS.inventory)), { devValue: pairs(DEV_PEER_TOKENS.inventory), isDevValue: namesDevPeerToken }),
  PAYMENT_CALLER_TOKENS: secret(callerTokens.prefault(pairs(DEV_PEER_TOKENS.payment)), { devValue: pairs(DEV_PEER_TOKENS.payment), isDevValue: namesDevPeerToken }),
  /** Caller side: the token this process presents to the inventory / payment service (one of the above). */
  INVENTORY_TOKEN: devSecret(DEV_PEER_TOKENS.inventory.tools, peerToken, isDevPeerToken),
  PAYMENT_TOKEN: devSecret(DEV_PEER_TOKENS.payment.tools, peerToken, isDevPeerToken),
  /** Peers only: serve the /test/* routes (fault injection, 3-D Secure simulation). Never in production. */
  SERVICE_TEST_MODE: z.stringbool().default(false),

  /** How long an order waits for the customer to confirm a payment (3-D Secure). */
  PAYMENT_CONFIRMATION_TIMEOUT: duration.default(15 * 60_000),
  /** Shared secret the payment provider signs its webhooks with. */
  PAYMENT_WEBHOOK_SECRET: devSecret('dev-webhook-secret'),
  /** While rotating: the secret being replaced, still accepted by the API (README, "Rotating the webhook secret"). */
  PAYMENT_WEBHOOK_SECRET_PREVIOUS: optionalSecret(),
  /** Where the payment service POSTs its webhooks (our API's /webhooks/payments); unset or empty: stored, not sent. */
  PAYMENT_WEBHOOK_URL: z.preprocess((v) => (v === '' ? undefined : v), url.optional()),
  /** How long a REST Idempotency-Key is remembered. */
  IDEMPOTENCY_KEY_TTL: duration.default(24 * 3_600_000),
  /** POST requests (place, cancel) one API client may send per API_RATE_LIMIT_WINDOW, counted across all API processes. */
  API_RATE_LIMIT_POSTS: z.coerce.number().int().min(1).default(600),
  API_RATE_LIMIT_WINDOW: duration.refine((ms) => ms >= 1_000, 'must be at least 1s').default(60_000),

  /** How long JetStream remembers a Nats-Msg-Id to drop a re-published event (the relay's crash window). */
  EVENTS_DUPLICATE_WINDOW: duration.default(2 * 60_000),
  /** How long the stream keeps events (for replays, rebuilds and new consumers). */
  EVENTS_MAX_AGE: duration.default(30 * 86_400_000),
  /** How long the dead-letter stream keeps an entry the operator neither replayed nor dropped. */
  DLQ_MAX_AGE: duration.default(30 * 86_400_000),
  /**
   * How long a consumer's inbox remembers an event it applied (workers/consumer-inbox.ts); at least
   * EVENTS_MAX_AGE + DLQ_MAX_AGE, how long the event can come back (a dead letter replayed on its
   * last day is in the stream for EVENTS_MAX_AGE more). Default: that plus a day.
   */
  INBOX_RETENTION: duration.optional(),
  /** 1 on a single node (dev); 3 in production (see common/nats.ts on durability). */
  EVENTS_STREAM_REPLICAS: z.coerce.number().int().min(1).max(5).default(1),

  /** The relay wakes on NOTIFY from each outbox insert; this poll is only the safety net. */
  RELAY_POLL_INTERVAL_MS: z.coerce.number().int().min(10).default(1_000),
  RELAY_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(500),
  /** Published outbox rows are deleted once older than this. */
  OUTBOX_RETENTION: duration.default(7 * 86_400_000),
  OUTBOX_CLEANUP_INTERVAL: duration.default(10 * 60_000),
  /**
   * Longest an order's email and card token stay in the order vault (common/order-vault.ts) when
   * the order does not end before (its workflow never started, or still waits). Ended orders' go at once.
   */
  ORDER_VAULT_RETENTION: duration.default(7 * 86_400_000),

  /** Messages one consumer process handles at once (events of one order always one at a time). */
  CONSUMER_CONCURRENCY: z.coerce.number().int().min(1).max(1_000).default(16),
  /** Deliveries before a message goes to the dead-letter stream. */
  CONSUMER_MAX_DELIVER: z.coerce.number().int().min(1).max(1_000).default(10),
  CONSUMER_ACK_WAIT: duration.default(30_000),
  /** First redelivery delay after a transient failure; doubles per delivery up to CONSUMER_RETRY_MAX_DELAY. */
  CONSUMER_RETRY_BASE_DELAY: duration.default(1_000),
  CONSUMER_RETRY_MAX_DELAY: duration.default(60_000),

  /** Port of the /metrics endpoint of the relay and consumer processes; 0 picks a free one. Unset: none. */
  METRICS_PORT: port.optional(),
  /** Worker: port of the Temporal SDK's own Prometheus /metrics (workflow and activity task metrics). Unset: none. */
  TEMPORAL_METRICS_PORT: port.optional(),
  /** OTLP/HTTP base URL traces are sent to (…/v1/traces), e.g. a collector's http://127.0.0.1:4318. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.preprocess((v) => (v === '' ? undefined : v), z.url({ protocol: /^https?$/ }).optional()),
  /** Zipkin's span API traces are sent to when OTEL_EXPORTER_OTLP_ENDPOINT is unset (npm run dev's viewer). Neither: tracing off. */
  OTEL_EXPORTER_ZIPKIN_ENDPOINT: z.preprocess((v) => (v === '' ? undefined : v), z.url({ protocol: /^https?$/ }).optional()),
  /** `service.name` of this process's spans; default the process's name (api, worker, relay, email, …). */
  OTEL_SERVICE_NAME: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 of letters, digits and ._-').optional(),
  HTTP_CLIENT_TIMEOUT_MS: z.coerce.number().int().min(100).default(5_000),
});

export type Config = z.infer<typeof configSchema> & { INVENTORY_DATABASE_URL: string; PAYMENT_DATABASE_URL: string; TEMPORAL_CODEC_KEY_ID: string; INBOX_RETENTION: number };

/** Tracing settings of a process named `processName` (common/tracing.ts). */
export function tracingSettings(config: Pick<Config, 'OTEL_EXPORTER_OTLP_ENDPOINT' | 'OTEL_EXPORTER_ZIPKIN_ENDPOINT' | 'OTEL_SERVICE_NAME'>, processName: string): { endpoint?: string; zipkinEndpoint?: string; serviceName: string } {
  return { endpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT, zipkinEndpoint: config.OTEL_EXPORTER_ZIPKIN_ENDPOINT, serviceName: config.OTEL_SERVICE_NAME ?? processName };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n');
    throw new ConfigError(`Invalid configuration from environment variables:\n${lines}\nFix these variables (see README, "Configuration") and start again.`);
  }
  const c = parsed.data;
  const codecKeyId = c.TEMPORAL_CODEC_KEY_ID ?? c.TEMPORAL_CODEC_KEYS[0]!.id;
  if (!c.TEMPORAL_CODEC_KEYS.some((k) => k.id === codecKeyId)) {
    throw new ConfigError(`Invalid configuration from environment variables:\n  TEMPORAL_CODEC_KEY_ID: "${codecKeyId}" is not a key id of TEMPORAL_CODEC_KEYS (${c.TEMPORAL_CODEC_KEYS.map((k) => k.id).join(', ')})\nFix these variables (see README, "Configuration") and start again.`);
  }
  const problems = [...workerTuningProblems(c), ...retentionProblems(c)];
  if (problems.length) {
    throw new ConfigError(`Invalid configuration from environment variables:\n${problems.map((m) => `  ${m}`).join('\n')}\nFix these variables (see README, "Configuration") and start again.`);
  }
  const config: Config = {
    ...c,
    INBOX_RETENTION: c.INBOX_RETENTION ?? c.EVENTS_MAX_AGE + c.DLQ_MAX_AGE + 86_400_000,
    TEMPORAL_CODEC_KEY_ID: codecKeyId,
    INVENTORY_DATABASE_URL: c.INVENTORY_DATABASE_URL ?? c.DATABASE_URL,
    PAYMENT_DATABASE_URL: c.PAYMENT_DATABASE_URL ?? c.DATABASE_URL,
  };
  // The peers' database URLs fall back to DATABASE_URL, so they are missing when both are unset.
  const fallbacks = { INVENTORY_DATABASE_URL: 'DATABASE_URL', PAYMENT_DATABASE_URL: 'DATABASE_URL' };
  return env.NODE_ENV === 'production' ? withoutDevSecrets(config, env, configSchema.shape, fallbacks) : config;
}

/** Worker settings that only make sense together: the SDK refuses more pollers than task slots. */
function workerTuningProblems(c: z.infer<typeof configSchema>): string[] {
  const problems: string[] = [];
  if (c.TEMPORAL_WORKER_WORKFLOW_TASK_POLLERS > c.TEMPORAL_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS) {
    problems.push(`TEMPORAL_WORKER_WORKFLOW_TASK_POLLERS: ${c.TEMPORAL_WORKER_WORKFLOW_TASK_POLLERS} is more than TEMPORAL_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS (${c.TEMPORAL_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS}); lower it or raise that`);
  }
  if (c.TEMPORAL_WORKER_ACTIVITY_TASK_POLLERS > c.TEMPORAL_WORKER_MAX_CONCURRENT_ACTIVITIES) {
    problems.push(`TEMPORAL_WORKER_ACTIVITY_TASK_POLLERS: ${c.TEMPORAL_WORKER_ACTIVITY_TASK_POLLERS} is more than TEMPORAL_WORKER_MAX_CONCURRENT_ACTIVITIES (${c.TEMPORAL_WORKER_MAX_CONCURRENT_ACTIVITIES}); lower it or raise that`);
  }
  return problems;
}

/**
 * An inbox that forgets an event before it can no longer come back would apply it twice on its
 * return; one that forgets it before the outbox does would make the order inspection say it was
 * never handled (common/inspection).
 */
function retentionProblems({ INBOX_RETENTION: inbox, EVENTS_MAX_AGE: stream, DLQ_MAX_AGE: deadLetters, OUTBOX_RETENTION: outbox }: z.infer<typeof configSchema>): string[] {
  if (inbox === undefined) return [];
  const problems: string[] = [];
  if (inbox < stream + deadLetters) {
    problems.push(`INBOX_RETENTION: ${inbox} ms is shorter than EVENTS_MAX_AGE + DLQ_MAX_AGE (${stream + deadLetters} ms), how long an event can come back (a dead letter replayed on its last day); an event returning after that would be applied twice. Raise it or leave it unset`);
  }
  if (inbox < outbox) problems.push(`INBOX_RETENTION: ${inbox} ms is shorter than OUTBOX_RETENTION (${outbox} ms); raise it or lower that`);
  return problems;
}
