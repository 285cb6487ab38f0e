-- AlterTable: an order belongs to the API client that placed it. Orders placed before API keys
-- existed belong to the client 'legacy' (operators still see them).
ALTER TABLE "orders" ADD COLUMN     "client_id" TEXT NOT NULL DEFAULT 'legacy';
ALTER TABLE "orders" ALTER COLUMN "client_id" DROP DEFAULT;

-- CreateIndex: a shop lists its own orders, newest first.
CREATE INDEX "orders_client_id_created_at_idx" ON "orders"("client_id", "created_at");

-- CreateEnum
CREATE TYPE "ApiScope" AS ENUM ('shop', 'operator');

-- CreateTable: API keys, stored as SHA-256 hashes (api/api-keys.ts).
CREATE TABLE "api_keys" (
    "id" TEXT NOT NULL,
    "client_id" TEXT NOT NULL,
    "scope" "ApiScope" NOT NULL,
    "secret_hash" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_used_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "api_keys_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "api_keys_client_id_idx" ON "api_keys"("client_id");

-- CreateTable: the API's rate-limit counters, shared by every API process (api/rate-limit.ts).
CREATE TABLE "api_rate_limit_windows" (
    "key" TEXT NOT NULL,
    "window_start" TIMESTAMPTZ(3) NOT NULL,
    "hits" INTEGER NOT NULL,

    CONSTRAINT "api_rate_limit_windows_pkey" PRIMARY KEY ("key","window_start")
);

-- CreateIndex
CREATE INDEX "api_rate_limit_windows_window_start_idx" ON "api_rate_limit_windows"("window_start");
