-- Inventory owns these tables; they live in their own schema so the service can share a
-- Postgres database with the order service without either touching the other's tables.
-- The schema itself (inventory) is created by services/shared/ensure-schema.ts when missing.

CREATE TABLE IF NOT EXISTS inventory.products (
  sku          text PRIMARY KEY,
  name         text NOT NULL,
  price_cents  integer NOT NULL CHECK (price_cents >= 0),
  stock        integer NOT NULL CHECK (stock >= 0),
  reserved     integer NOT NULL DEFAULT 0 CHECK (reserved >= 0),
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  -- available = stock - reserved can never go negative
  CONSTRAINT products_reserved_within_stock CHECK (reserved <= stock)
);

CREATE TABLE IF NOT EXISTS inventory.reservations (
  order_id    uuid PRIMARY KEY,
  status      text NOT NULL CHECK (status IN ('RESERVED', 'RELEASED', 'COMMITTED')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS inventory.reservation_lines (
  order_id  uuid NOT NULL REFERENCES inventory.reservations (order_id),
  sku       text NOT NULL REFERENCES inventory.products (sku),
  quantity  integer NOT NULL CHECK (quantity > 0),
  PRIMARY KEY (order_id, sku)
);

-- The currency of price_cents (ISO 4217). Added after the table: existing rows are EUR, the
-- currency the catalog was kept in before. IF NOT EXISTS keeps this safe on every start.
ALTER TABLE inventory.products
  ADD COLUMN IF NOT EXISTS currency char(3) NOT NULL DEFAULT 'EUR' CONSTRAINT products_currency_iso4217 CHECK (currency ~ '^[A-Z]{3}$');
