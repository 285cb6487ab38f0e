import { defineConfig } from 'prisma/config';

// Used by the Prisma CLI only (generate, migrate deploy/status where the schema engine exists).
// The running services build their connection from DATABASE_URL in common/config.ts.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://postgres:postgres@127.0.0.1:54329/orders' },
});
