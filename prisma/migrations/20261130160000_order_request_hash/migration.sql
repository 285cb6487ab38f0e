-- The fingerprint of the keyed POST /orders that placed an order (api/idempotency.ts), kept with
-- the order: a later request under the same Idempotency-Key is told apart from it by the whole
-- body, card token included, also after the key's row expired (api/keyed-orders.ts). Null for
-- orders placed without a key, and for those recorded before this column.
ALTER TABLE "orders" ADD COLUMN "request_hash" TEXT;
