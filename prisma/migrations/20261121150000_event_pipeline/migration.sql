-- Wake the outbox relay when new outbox rows commit (LISTEN outbox_events). NOTIFY is delivered
-- at commit and collapsed per transaction, so one insert statement costs one notification.
CREATE FUNCTION "notify_outbox_event"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('outbox_events', '');
  RETURN NULL;
END
$$;

CREATE TRIGGER "outbox_events_notify" AFTER INSERT ON "outbox_events"
  FOR EACH STATEMENT EXECUTE FUNCTION "notify_outbox_event"();

-- AlterTable: OrderPlaced v2 carries itemCount; the read model keeps it.
ALTER TABLE "analytics_orders" ADD COLUMN     "item_count" INTEGER NOT NULL DEFAULT 0;

-- AlterTable: an email is claimed (SENDING) before it is sent and marked SENT after.
ALTER TABLE "sent_emails" ADD COLUMN     "status" TEXT NOT NULL DEFAULT 'SENT',
ADD COLUMN     "attempts" INTEGER NOT NULL DEFAULT 1;

-- The relay's batch query (WHERE published_at IS NULL ORDER BY sequence LIMIT n) reads this
-- index in order instead of sorting every unpublished row. Prisma's schema cannot express a
-- partial index; test/db/schema-diff.ts lists it as SQL-only.
CREATE INDEX "outbox_events_unpublished_idx" ON "outbox_events" ("sequence") WHERE "published_at" IS NULL;
