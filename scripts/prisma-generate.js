// Generates the Prisma client (generated/prisma, not committed) after `npm ci`.
// `prisma generate` does not need the schema engine, but the CLI tries to download it first;
// pointing PRISMA_SCHEMA_ENGINE_BINARY at any existing file skips that download, which cannot
// succeed on machines without internet. Where a real engine is configured, it is used as is.
const { execFileSync } = require('node:child_process');
const path = require('node:path');

let prismaCli;
try {
  prismaCli = require.resolve('prisma/build/index.js');
} catch {
  // A production install (`npm ci --omit=dev`) has no Prisma CLI: the build in dist/ carries the
  // generated client already.
  console.log('prisma-generate: Prisma CLI not installed (production install), skipping; dist/ ships the generated client');
  process.exit(0);
}
const env = { ...process.env };
if (!env.PRISMA_SCHEMA_ENGINE_BINARY) env.PRISMA_SCHEMA_ENGINE_BINARY = process.execPath;
execFileSync(process.execPath, [prismaCli, 'generate'], {
  cwd: path.join(__dirname, '..'),
  env,
  stdio: 'inherit',
});
