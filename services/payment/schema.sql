-- Payment owns these tables; they live in their own schema so the service can share a Postgres
-- database with the order service without either touching the other's tables.
-- Card tokens are never stored: only a label for the kind of test card and a sha256 fingerprint.
-- The schema itself (payment) is created by services/shared/ensure-schema.ts when missing.

CREATE TABLE IF NOT EXISTS payment.payments (
  id                uuid PRIMARY KEY,
  order_id          uuid NOT NULL,
  amount_cents      integer NOT NULL CHECK (amount_cents > 0),
  currency          char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  status            text NOT NULL CHECK (status IN ('REQUIRES_CONFIRMATION', 'AUTHORIZED', 'DECLINED', 'CAPTURED', 'VOIDED', 'REFUNDED', 'PARTIALLY_REFUNDED')),
  card_label        text NOT NULL,
  card_fingerprint  text NOT NULL,
  decline_code      text,
  -- money moved so far: authorized = captured + voided once nothing is held any more
  authorized_cents  integer NOT NULL DEFAULT 0 CHECK (authorized_cents >= 0 AND authorized_cents <= amount_cents),
  captured_cents    integer NOT NULL DEFAULT 0 CHECK (captured_cents >= 0),
  voided_cents      integer NOT NULL DEFAULT 0 CHECK (voided_cents >= 0),
  refunded_cents    integer NOT NULL DEFAULT 0 CHECK (refunded_cents >= 0),
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT payments_settled_within_authorized CHECK (captured_cents + voided_cents <= authorized_cents),
  CONSTRAINT payments_refunded_within_captured CHECK (refunded_cents <= captured_cents)
);

-- One live payment per order; declined attempts stay on record and the order may try another card.
CREATE UNIQUE INDEX IF NOT EXISTS payments_one_live_per_order ON payment.payments (order_id) WHERE status <> 'DECLINED';
CREATE INDEX IF NOT EXISTS payments_order_id ON payment.payments (order_id);

CREATE TABLE IF NOT EXISTS payment.operations (
  seq              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id               uuid NOT NULL UNIQUE,
  payment_id       uuid REFERENCES payment.payments (id),
  order_id         uuid NOT NULL,
  kind             text NOT NULL CHECK (kind IN ('authorize', 'confirm', 'capture', 'void', 'refund')),
  amount_cents     integer NOT NULL CHECK (amount_cents >= 0),
  currency         char(3) NOT NULL,
  outcome          text NOT NULL CHECK (outcome IN ('approved', 'declined', 'requires_confirmation', 'failed')),
  decline_code     text,
  idempotency_key  text,
  created_at       timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX IF NOT EXISTS operations_order_id ON payment.operations (order_id, seq);

-- Webhook events, one per 3-D Secure confirmation; the stored body is re-sent byte for byte.
CREATE TABLE IF NOT EXISTS payment.webhook_events (
  id            uuid PRIMARY KEY,
  payment_id    uuid NOT NULL UNIQUE REFERENCES payment.payments (id),
  order_id      uuid NOT NULL,
  type          text NOT NULL,
  body          text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  attempts      integer NOT NULL DEFAULT 0,
  delivered_at  timestamptz,
  last_error    text
);

-- Orders whose payment the merchant undid (POST /orders/{orderId}/payment/void or /refund). From
-- then on the order accepts no new authorization and no capture, so a request that arrives late
-- (sent before the undo, still on its way) cannot put a hold on the card or take money again.
CREATE TABLE IF NOT EXISTS payment.order_fences (
  order_id    uuid PRIMARY KEY,
  fenced_by   text NOT NULL CHECK (fenced_by IN ('void', 'refund')),
  created_at  timestamptz NOT NULL DEFAULT now()
);
