import type { RequestHandler } from 'express';
import { rateLimit, type ClientRateLimitInfo, type Options, type Store } from 'express-rate-limit';
import { problem, sendProblem } from '../common/http';
import type { Logger } from '../common/logger';
import type { Queryable } from '../common/pg';
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
/** The start of the window `now` is in, for a window of $2 ms (the same expression in both statements). */
const CURRENT_WINDOW_START = "to_timestamp(floor(extract(epoch from clock_timestamp()) * 1000 / $2::bigint) * $2::bigint / 1000.0)";

export class PostgresRateLimitStore implements Store {
  readonly localKeys = false;
  readonly prefix = 'api-post';
  /** `db`: the API's node-postgres pool (every POST counts here, so no ORM in between). */
  constructor(private readonly db: Queryable, private windowMs: number) {}

  init(options: Options): void {
    this.windowMs = options.windowMs;
  }

  /** Windows are aligned to multiples of windowMs on the database's clock, shared by all processes. */
  async increment(key: string): Promise<ClientRateLimitInfo> {
    const { rows: [row] } = await this.db.query<{ hits: number; window_start: Date }>({
      name: 'rate-limit-increment',
      text: `INSERT INTO api_rate_limit_windows (key, window_start, hits)
             VALUES ($1, ${CURRENT_WINDOW_START}, 1)
             ON CONFLICT (key, window_start) DO UPDATE SET hits = api_rate_limit_windows.hits + 1
             RETURNING hits, window_start`,
      values: [key, this.windowMs],
    });
    return { totalHits: row!.hits, resetTime: new Date(row!.window_start.getTime() + this.windowMs) };
  }

  async decrement(key: string): Promise<void> {
    await this.db.query({
      name: 'rate-limit-decrement',
      text: `UPDATE api_rate_limit_windows SET hits = greatest(hits - 1, 0) WHERE key = $1 AND window_start = ${CURRENT_WINDOW_START}`,
      values: [key, this.windowMs],
    });
  }

  async resetKey(key: string): Promise<void> {
    await this.db.query({ name: 'rate-limit-reset', text: 'DELETE FROM api_rate_limit_windows WHERE key = $1', values: [key] });
  }

  /** Removes windows that have ended; the API runs it on a timer. */
  async purgeEnded(): Promise<number> {
    const { rowCount } = await this.db.query({
      name: 'rate-limit-purge',
      text: `DELETE FROM api_rate_limit_windows WHERE window_start < now() - make_interval(secs => $1::double precision / 1000)`,
      values: [this.windowMs],
    });
    return rowCount ?? 0;
  }
}

export interface RateLimitSettings {
  postsPerWindow: number;
  windowMs: number;
}

/** Mount after authenticate(): the limit is per authenticated client, not per address. */
export function postRateLimit(db: Queryable, { postsPerWindow, windowMs }: RateLimitSettings, logger: Logger): RequestHandler {
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
