import { z } from 'zod';
import { TASK_QUEUE_DEFAULT } from './order/workflow-contract';
import { DEV_CODEC_KEYS, parseCodecKeys } from './temporal-codec';

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

const configSchema = z.object({
  DATABASE_URL: url.default('postgresql://postgres:postgres@127.0.0.1:54329/orders'),
  INVENTORY_DATABASE_URL: url.optional(),
  PAYMENT_DATABASE_URL: url.optional(),
  /** How long a pool waits for a new database connection before the query fails (0s: no limit). */
  DATABASE_CONNECT_TIMEOUT: duration.default(5_000),
  /** Longest a statement may run before Postgres cancels it (statement_timeout; 0s: no limit). */
  DATABASE_STATEMENT_TIMEOUT: duration.default(15_000),

  TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default(TASK_QUEUE_DEFAULT),
  /** Deadline of each call the API makes to Temporal (start, query, update, signal, health). */
  TEMPORAL_CALL_TIMEOUT: duration.default(10_000),
  /**
   * Keys of the Temporal payload codec (AES-256-GCM): `<keyId>:<base64 of 32 bytes>[,…]`. Keep
   * retired keys listed while histories encrypted with them are kept; the default is a dev key.
   */
  TEMPORAL_CODEC_KEYS: z.string().default(DEV_CODEC_KEYS).transform((value, ctx) => {
    const { keys, problems } = parseCodecKeys(value);
    for (const message of problems) ctx.addIssue({ code: 'custom', message });
    if (!problems.length && !keys.length) ctx.addIssue({ code: 'custom', message: 'must list at least one key' });
    return keys;
  }),
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

  NATS_URL: z.string().min(1).default('nats://127.0.0.1:4222'),
  EVENTS_STREAM: z.string().regex(/^[A-Za-z0-9_-]+$/).default('ORDER_EVENTS'),
  EVENTS_SUBJECT_PREFIX: z.string().regex(/^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/).default('orders.events'),

  SMTP_URL: z.string().regex(/^smtps?:\/\//, 'must be smtp:// or smtps://').default('smtp://127.0.0.1:2525'),
  EMAIL_FROM: z.string().email().default('orders@shop.example'),

  /** Interface our HTTP servers bind to; 0.0.0.0 in containers. */
  HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  API_PORT: port.default(3000),
  INVENTORY_PORT: port.default(3001),
  PAYMENT_PORT: port.default(3002),
  /** The inventory service adds the sample catalog's missing products at start (dev, compose). */
  INVENTORY_SEED_SAMPLE_CATALOG: z.stringbool().default(false),
  INVENTORY_URL: url.default('http://127.0.0.1:3001'),
  PAYMENT_URL: url.default('http://127.0.0.1:3002'),

  /** How long an order waits for the customer to confirm a payment (3-D Secure). */
  PAYMENT_CONFIRMATION_TIMEOUT: duration.default(15 * 60_000),
  /** Shared secret the payment provider signs its webhooks with. */
  PAYMENT_WEBHOOK_SECRET: z.string().min(8).default('dev-webhook-secret'),
  /** Where the payment service POSTs its webhooks (our API's /webhooks/payments); unset or empty: stored, not sent. */
  PAYMENT_WEBHOOK_URL: z.preprocess((v) => (v === '' ? undefined : v), url.optional()),
  /** How long a REST Idempotency-Key is remembered. */
  IDEMPOTENCY_KEY_TTL: duration.default(24 * 3_600_000),

  /** How long JetStream remembers a Nats-Msg-Id to drop a re-published event (the relay's crash window). */
  EVENTS_DUPLICATE_WINDOW: duration.default(2 * 60_000),
  /** How long the stream keeps events (for replays, rebuilds and new consumers). */
  EVENTS_MAX_AGE: duration.default(30 * 86_400_000),
  /** 1 on a single node (dev); 3 in production (see common/nats.ts on durability). */
  EVENTS_STREAM_REPLICAS: z.coerce.number().int().min(1).max(5).default(1),

  /** The relay wakes on NOTIFY from each outbox insert; this poll is only the safety net. */
  RELAY_POLL_INTERVAL_MS: z.coerce.number().int().min(10).default(1_000),
  RELAY_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(500),
  /** Published outbox rows are deleted once older than this. */
  OUTBOX_RETENTION: duration.default(7 * 86_400_000),
  OUTBOX_CLEANUP_INTERVAL: duration.default(10 * 60_000),

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
  HTTP_CLIENT_TIMEOUT_MS: z.coerce.number().int().min(100).default(5_000),
});

export type Config = z.infer<typeof configSchema> & { INVENTORY_DATABASE_URL: string; PAYMENT_DATABASE_URL: string; TEMPORAL_CODEC_KEY_ID: string };

export class ConfigError extends Error {}

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
  return {
    ...c,
    TEMPORAL_CODEC_KEY_ID: codecKeyId,
    INVENTORY_DATABASE_URL: c.INVENTORY_DATABASE_URL ?? c.DATABASE_URL,
    PAYMENT_DATABASE_URL: c.PAYMENT_DATABASE_URL ?? c.DATABASE_URL,
  };
}
