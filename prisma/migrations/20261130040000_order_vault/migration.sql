-- The customer's email and card token leave the workflow input: the API keeps them here, the
-- activities read them by order id, and the row goes when the order ends.
CREATE TABLE "order_vault" (
    "order_id" UUID NOT NULL,
    "customer_id" TEXT NOT NULL,
    "customer_email" TEXT,
    "payment_token" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "order_vault_pkey" PRIMARY KEY ("order_id")
);

CREATE INDEX "order_vault_created_at_idx" ON "order_vault"("created_at");

CREATE INDEX "order_vault_customer_id_idx" ON "order_vault"("customer_id");
