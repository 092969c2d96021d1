# Keystep: runs its TypeScript sources directly on Node.js 24 (no build step).
FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY bin ./bin
COPY src ./src
COPY migrations ./migrations
COPY views ./views
USER node
EXPOSE 3000
# Keystep listens on loopback unless told otherwise; in a container, the published port needs all interfaces.
ENV PORT=3000 KEYSTEP_HOST=0.0.0.0
CMD ["node", "bin/keystep.js", "serve"]
