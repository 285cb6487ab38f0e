-- The consumers' inbox is pruned past INBOX_RETENTION (workers/consumer-inbox.ts). A BRIN index on
-- processed_at finds the old rows without a seq scan, at almost no cost to each event's insert
-- (rows arrive in processed_at order).
CREATE INDEX "processed_events_processed_at_idx" ON "processed_events" USING BRIN ("processed_at");
