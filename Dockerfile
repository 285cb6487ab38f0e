# syntax=docker/dockerfile:1
# One image for all of our processes (common/processes.ts); docker-compose.yml picks the process
# with `command`, e.g. ["node", "dist/workers/outbox-relay.main.js"]. Plain `node` on the
# compiled build in dist/: no TypeScript tooling at run time.
#
#   docker build -t order-orchestrator .
#   docker run --rm order-orchestrator node dist/prisma/migrate.js     # with DATABASE_URL set
#
# Node.js 24 (Active LTS). Pinned to a minor line; raise NODE_VERSION to take newer 24.x releases.
ARG NODE_VERSION=24.11

# ---- build: all dependencies (the postinstall generates the Prisma client), then `npm run build`
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
# What `npm ci` needs, copied first so the dependency layer is reused while only sources change;
# its postinstall (scripts/prisma-generate.js) writes generated/prisma from the Prisma schema.
COPY package.json package-lock.json prisma.config.ts ./
COPY scripts/prisma-generate.js scripts/prisma-generate.js
COPY prisma/schema.prisma prisma/schema.prisma
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY . .
# tsc to dist/, the SQL the services and the migrator read, the ahead-of-time workflow bundle.
RUN npm run build

# ---- runtime: production dependencies and dist/ only
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
# tini as PID 1: forwards SIGTERM to node (our processes stop gracefully on it) and reaps zombies.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production \
    HTTP_HOST=0.0.0.0
COPY package.json package-lock.json ./
# --ignore-scripts: no postinstall here; the Prisma client is already compiled into dist/generated.
# --omit=optional too: the Prisma CLI (a dev dependency) is also an optional peer of
# @prisma/client, which npm keeps under --omit=dev alone (~250 MB of tooling). The only other
# optional packages are @swc/core's platform binaries (used only to bundle workflows, done at
# build time) and pg-cloudflare (Cloudflare Workers only).
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund
COPY --from=build /app/dist ./dist
USER node
EXPOSE 3000
# Asks this container's process for GET /healthz (see scripts/healthcheck.ts for which port).
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "/app/dist/scripts/healthcheck.js"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/api/api.main.js"]
