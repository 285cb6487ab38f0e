import type { RequestHandler } from 'express';
import { rateLimit, type ClientRateLimitInfo, type Options, type Store } from 'express-rate-limit';
import type { Db } from '../common/db';
import { problem, sendProblem } from '../common/http';
import type { Logger } from '../common/logger';
import { authenticatedClient } from './auth';

/**
 * Per-client limit on the API's POST routes (placing and cancelling orders), by express-rate-limit:
 * a fixed window of API_RATE_LIMIT_WINDOW, API_RATE_LIMIT_POSTS requests per client in it, the
 * `RateLimit` and `RateLimit-Policy` headers of the IETF draft (draft-8) on every POST, and 429
 * problem+json with `Retry-After` beyond the limit.
 *
 * The counters live in our own Postgres (`api_rate_limit_windows`, one row per client and window,
 * incremented in one statement), so every API process counts against the same limit. Not
 * @acpr/rate-limit-postgresql: its constructor runs its own migrations without waiting for them
 * (the first requests race them, a failure is an unhandled rejection), they create a `migrations`
 * table in our `public` schema and need CREATE EXTENSION, and each hit takes a table lock on its
 * sessions table, which makes every POST of every API process wait for each other.
 */
export class PostgresRateLimitStore implements Store {
  readonly localKeys = false;
  readonly prefix = 'api-post';
  constructor(private readonly db: Db, private windowMs: number) {}

  init(options: Options): void {
    this.windowMs = options.windowMs;
  }

  /** Windows are aligned to multiples of windowMs on the database's clock, shared by all processes. */
  async increment(key: string): Promise<ClientRateLimitInfo> {
    const [row] = await this.db.$queryRaw<{ hits: number; window_start: Date }[]>`
      INSERT INTO api_rate_limit_windows (key, window_start, hits)
      VALUES (${key}, to_timestamp(floor(extract(epoch from clock_timestamp()) * 1000 / ${this.windowMs}) * ${this.windowMs} / 1000.0), 1)
      ON CONFLICT (key, window_start) DO UPDATE SET hits = api_rate_limit_windows.hits + 1
      RETURNING hits, window_start`;
    return { totalHits: row!.hits, resetTime: new Date(row!.window_start.getTime() + this.windowMs) };
  }

  async decrement(key: string): Promise<void> {
    await this.db.$executeRaw`
      UPDATE api_rate_limit_windows SET hits = greatest(hits - 1, 0)
      WHERE key = ${key} AND window_start = to_timestamp(floor(extract(epoch from clock_timestamp()) * 1000 / ${this.windowMs}) * ${this.windowMs} / 1000.0)`;
  }

  async resetKey(key: string): Promise<void> {
    await this.db.apiRateLimitWindow.deleteMany({ where: { key } });
  }

  /** Removes windows that have ended; the API runs it on a timer. */
  async purgeEnded(): Promise<number> {
    const { count } = await this.db.apiRateLimitWindow.deleteMany({ where: { windowStart: { lt: new Date(Date.now() - this.windowMs) } } });
    return count;
  }
}

export interface RateLimitSettings {
  postsPerWindow: number;
  windowMs: number;
}

/** Mount after authenticate(): the limit is per authenticated client, not per address. */
export function postRateLimit(db: Db, { postsPerWindow, windowMs }: RateLimitSettings, logger: Logger): RequestHandler {
  return rateLimit({
    windowMs,
    limit: postsPerWindow,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    identifier: 'posts',
    store: new PostgresRateLimitStore(db, windowMs),
    skip: (req) => req.method !== 'POST',
    keyGenerator: (_req, res) => authenticatedClient(res).clientId,
    // A database that cannot count cannot place orders either; let the request meet that error itself.
    passOnStoreError: true,
    logger: {
      error: (err, message) => logger.warn({ err }, message ?? 'rate-limit store failed; request not counted'),
      warn: (err, message) => logger.warn({ err }, message ?? 'rate-limit warning'),
    },
    handler: (req, res, _next, options) => {
      const seconds = Math.max(1, Number(res.get('retry-after')) || Math.ceil(options.windowMs / 1000));
      sendProblem(res, {
        ...problem(429, 'rate-limited', 'Too many requests',
          `This API key's client may send ${options.limit} POST requests per ${options.windowMs / 1000} s; retry after ${seconds} s.`).problem,
        instance: req.originalUrl,
      });
    },
  });
}
