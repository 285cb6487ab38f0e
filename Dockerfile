# One image for all of our processes; docker-compose.yml picks the process with `command`.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts/prisma-generate.js scripts/prisma-generate.js
COPY prisma prisma
COPY prisma.config.ts ./
RUN npm ci --no-audit --no-fund
COPY . .
ENV NODE_ENV=production HTTP_HOST=0.0.0.0
CMD ["npx", "tsx", "api/main.ts"]
