-- The operator page (api/routes/operator-page.ts): when each order reached each status (saga
-- step latencies), orders by the time they were placed, and each consumer's broker backlog.
CREATE TABLE "analytics_order_transitions" (
    "order_id" UUID NOT NULL,
    "status" TEXT NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "analytics_order_transitions_pkey" PRIMARY KEY ("order_id","status")
);

-- A rebuild (workers/analytics-rebuild.ts) deletes the orders; their transitions go with them.
ALTER TABLE "analytics_order_transitions" ADD CONSTRAINT "analytics_order_transitions_order_id_fkey" FOREIGN KEY ("order_id") REFERENCES "analytics_orders"("order_id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE INDEX "analytics_orders_placed_at_idx" ON "analytics_orders"("placed_at");

CREATE TABLE "consumer_lag" (
    "consumer" TEXT NOT NULL,
    "pending" INTEGER NOT NULL,
    "ack_pending" INTEGER NOT NULL,
    "redelivered" INTEGER NOT NULL,
    "dead_letters" INTEGER NOT NULL,
    "observed_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "consumer_lag_pkey" PRIMARY KEY ("consumer")
);
