# One image, every component: `plansync <api|fetcher|processor|worker|controller|provider-sim|migrate|dev>`.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY services ./services
COPY controller ./controller
COPY bench ./bench
RUN npx tsc -p tsconfig.json && npm prune --omit=dev

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --chown=node:node package.json ./
# read at runtime: SQL migrations, the OpenAPI document, sample provider data and PlanSources
COPY --chown=node:node services/core/migrations ./services/core/migrations
COPY --chown=node:node services/api/openapi.yaml ./services/api/openapi.yaml
COPY --chown=node:node examples ./examples
# Non-root; nothing is written outside /tmp (spooled provider snapshots), so a read-only root FS works.
USER node
EXPOSE 8080 9464 9090
ENTRYPOINT ["node", "dist/services/cli.js"]
CMD ["api"]
