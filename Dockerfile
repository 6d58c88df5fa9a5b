# syntax=docker/dockerfile:1
# The game server in a container:
#   docker build -t colyseus-mmo .
#   docker run -p 2567:2567 -e METRICS_TOKEN=... -e MONITOR_PASSWORD=... -v mmo-data:/app/data colyseus-mmo
# (production: METRICS_TOKEN, or METRICS_PUBLIC=1, is required; MONITOR_PASSWORD, if set, has 16+ characters)
# (deploy/README.md: Redis, several processes, a front door). test/production.test.ts runs
# this file's install, copy and start steps on a fresh copy of the repo (there is no Docker
# daemon on the CI machine) and lints it with dockerfilelint.

# 1. Build: every dependency, then the compiled server (dist/server), client (client/dist)
#    and SDK package (packages/sdk/dist): `npm run build`.
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/sdk/package.json packages/sdk/
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

# 2. Production dependencies only, exactly as the lock file has them. The image's own Node
#    is 22, so the optional node@22 package (what npm scripts use on a machine with an older
#    Node) is left out.
FROM node:22-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/sdk/package.json packages/sdk/
RUN npm ci --omit=dev --omit=optional --no-audit --no-fund

# 3. Runtime: the built tree and its production dependencies, run by an unprivileged user.
FROM node:22-bookworm-slim
# tini is PID 1: it hands SIGTERM (docker stop) to the server exactly once and reaps the
# process bridge's orphaned grandchildren, which a Node PID 1 would leave as zombies.
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini \
    && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    PORT=2567 \
    MMO_DATA_DIR=/app/data
WORKDIR /app
COPY --from=deps /app/node_modules node_modules
COPY --from=build /app/package.json package.json
COPY --from=build /app/dist dist
COPY --from=build /app/client/dist client/dist
COPY --from=build /app/packages/sdk/package.json packages/sdk/package.json
COPY --from=build /app/packages/sdk/dist packages/sdk/dist
COPY --from=build /app/examples examples
# `npm start` checks the build is current before it runs it (here: nothing to rebuild).
COPY --from=build /app/scripts/build.mjs scripts/build.mjs
# World snapshots and the identity key (without IDENTITY_SECRET) live here: mount a volume.
RUN mkdir -p /app/data && chown node:node /app/data
VOLUME /app/data
USER node
EXPOSE 2567
# 503 while draining or while the configured Redis does not answer.
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
    CMD node -e "fetch('http://127.0.0.1:' + (process.env.PORT || 2567) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
# docker stop sends SIGTERM and, after --time (default 10 s), SIGKILL: run containers with
# `--stop-timeout` above MMO_DRAIN_SECONDS (10) plus the final snapshot, e.g. 30.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/server/index.js"]
