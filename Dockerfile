# The auth service's image, in four stages so the runtime holds only what `node dist/...` needs:
#   deps       every dependency (the build needs the Nest CLI and TypeScript)
#   build      compiles apps/ and libs/ to dist/
#   prod-deps  production dependencies only, from the same lockfile
#   runtime    prod-deps + dist/, run as the unprivileged `node` user
# Debian (glibc), not Alpine: @node-rs/argon2 and @swc/core ship prebuilt glibc binaries as
# optional npm packages, one per platform, all pinned in package-lock.json (amd64 and arm64 both build).
#
#   docker build -t im-auth .
#   docker run -p 3000:3000 -e MASTER_KEY="$(openssl rand -hex 32)" -e DATABASE_URL=postgresql://... im-auth
# The image runs with NODE_ENV=production, which needs DATABASE_URL. To keep an embedded PostgreSQL
# (PGlite) under /app/data instead, say so with -e ALLOW_EMBEDDED_DB=true and mount a volume there
# (-v im-auth-data:/app/data) or it is lost with the container.

ARG NODE_VERSION=20

FROM node:${NODE_VERSION}-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# No install script is needed (native code arrives prebuilt); skipping them also skips telemetry.
RUN npm ci --ignore-scripts

FROM deps AS build
COPY tsconfig.json nest-cli.json ./
COPY libs ./libs
COPY apps ./apps
RUN npm run build \
 && test -f dist/apps/auth/apps/auth/src/main.js \
 && test -f dist/apps/auth/apps/auth/src/cli/main.js \
 && test -f dist/apps/auth/apps/auth/src/crypto/hashing-worker.mjs

FROM node:${NODE_VERSION}-bookworm-slim AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production \
    DATA_DIR=/app/data
WORKDIR /app
# Code and dependencies stay owned by root (read-only to the service); only the data dir is its own.
COPY package.json ./
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
RUN install -d -m 0700 -o node -g node /app/data
USER node

EXPOSE 3000
# Slim images have no curl: ask node's own fetch. Liveness only (the process answers); readiness,
# which also asks the database, is GET /health/ready. The start period covers migrations and, on a
# first start without DATABASE_URL, creating the embedded database.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health/live').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

# Migrations run at start. SIGTERM drains in-flight requests (up to 10 s) and exits 0.
# Operator CLI: docker exec <container> node dist/apps/auth/apps/auth/src/cli/main.js --help
CMD ["node", "dist/apps/auth/apps/auth/src/main.js"]
