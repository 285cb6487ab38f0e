-- Each consumer prunes its inbox rows past INBOX_RETENTION (workers/consumer-inbox.ts): this index
-- finds one consumer's oldest rows exactly. (A BRIN index on processed_at would be cheaper to
-- keep, but pruning frees pages that new rows then reuse, and its ranges soon match everything.)
-- The build locks processed_events against inserts while it runs: on a large inbox, create the
-- index by hand first with CREATE INDEX CONCURRENTLY under this name, and this migration skips it.
CREATE INDEX IF NOT EXISTS "processed_events_consumer_processed_at_idx" ON "processed_events"("consumer", "processed_at");
