import { z } from 'zod';
import { TASK_QUEUE_DEFAULT } from './order/workflow-contract';

/**
 * Every setting of every process, read from the environment once at start-up and validated.
 * Defaults match what `npm run dev` starts, so nothing needs setting locally.
 */
const port = z.coerce.number().int().min(0).max(65535);
const url = z.string().url();

/**
 * Peer-service credentials (inventory, payment): each caller of a peer presents its own shared
 * secret as `Authorization: Bearer <token>`. The dev defaults start with `dev-` so a production
 * start can tell them apart; `npm run dev` hands the API and the worker their own (DEV_PEER_TOKENS).
 */
export const DEV_PEER_TOKENS = {
  inventory: { api: 'dev-inventory-token-api', worker: 'dev-inventory-token-worker', tools: 'dev-inventory-token-tools' },
  payment: { worker: 'dev-payment-token-worker', tools: 'dev-payment-token-tools' },
} as const;

const CALLER_NAME = /^[a-z][a-z0-9-]{0,31}$/;
/** 16+ visible ASCII characters without "," or ":" (they separate the pairs). */
const peerToken = z.string().regex(/^[\x21-\x2b\x2d-\x39\x3b-\x7e]{16,256}$/, 'must be 16-256 visible ASCII characters without "," or ":"');

/** `caller:token,caller:token` → caller by name; every caller and every token once. */
const callerTokens = z.string().transform((spec, ctx): ReadonlyMap<string, string> => {
  const callers = new Map<string, string>();
  for (const pair of spec.split(',').map((p) => p.trim()).filter(Boolean)) {
    const [caller = '', token = '', ...rest] = pair.split(':');
    if (!CALLER_NAME.test(caller) || rest.length > 0 || !peerToken.safeParse(token).success) {
      ctx.addIssue({ code: 'custom', message: `"${caller}:…" is not caller:token (caller: a-z, 0-9, "-"; token: 16-256 visible ASCII characters without "," or ":")` });
      return z.NEVER;
    }
    if (callers.has(caller) || [...callers.values()].includes(token)) {
      ctx.addIssue({ code: 'custom', message: `caller "${caller}" or its token appears twice; give each caller one token of its own` });
      return z.NEVER;
    }
    callers.set(caller, token);
  }
  if (callers.size === 0) {
    ctx.addIssue({ code: 'custom', message: 'names no caller; set caller:token pairs, e.g. worker:<token>,api:<token>' });
    return z.NEVER;
  }
  return callers;
});
const pairs = (tokens: Record<string, string>) => Object.entries(tokens).map(([caller, token]) => `${caller}:${token}`).join(',');

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
  /** Service side: who may call the inventory / payment service, as `caller:token,caller:token`. */
  INVENTORY_CALLER_TOKENS: callerTokens.prefault(pairs(DEV_PEER_TOKENS.inventory)),
  PAYMENT_CALLER_TOKENS: callerTokens.prefault(pairs(DEV_PEER_TOKENS.payment)),
  /** Caller side: the token this process presents to the inventory / payment service (one of the above). */
  INVENTORY_TOKEN: peerToken.default(DEV_PEER_TOKENS.inventory.tools),
  PAYMENT_TOKEN: peerToken.default(DEV_PEER_TOKENS.payment.tools),
  /** Peers only: serve the /test/* routes (fault injection, 3-D Secure simulation). Never in production. */
  SERVICE_TEST_MODE: z.stringbool().default(false),

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

export type Config = z.infer<typeof configSchema> & { INVENTORY_DATABASE_URL: string; PAYMENT_DATABASE_URL: string };

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n');
    throw new ConfigError(`Invalid configuration from environment variables:\n${lines}\nFix these variables (see README, "Configuration") and start again.`);
  }
  const c = parsed.data;
  return {
    ...c,
    INVENTORY_DATABASE_URL: c.INVENTORY_DATABASE_URL ?? c.DATABASE_URL,
    PAYMENT_DATABASE_URL: c.PAYMENT_DATABASE_URL ?? c.DATABASE_URL,
  };
}
