// Generates the Prisma client (generated/prisma, not committed) after `npm ci`.
// `prisma generate` does not need the schema engine, but the CLI tries to download it first;
// pointing PRISMA_SCHEMA_ENGINE_BINARY at any existing file skips that download, which cannot
// succeed on machines without internet. Where a real engine is configured, it is used as is.
const { execFileSync } = require('node:child_process');
const path = require('node:path');

const env = { ...process.env };
if (!env.PRISMA_SCHEMA_ENGINE_BINARY) env.PRISMA_SCHEMA_ENGINE_BINARY = process.execPath;
execFileSync(process.execPath, [require.resolve('prisma/build/index.js'), 'generate'], {
  cwd: path.join(__dirname, '..'),
  env,
  stdio: 'inherit',
});
