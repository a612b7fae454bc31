# The PDP image. `npm ci` runs the package's `prepare` script (scripts/build.js): TypeScript → dist/
# and the prebuilt wasm runtime every compiled policy links into; dev dependencies are pruned after.
# No bundle is baked in: the replicas load theirs from the bundle source in their config
# (docker-compose.yml and deploy/k8s/ poll a bundle server; build the bundle with `npx pdp build`).
FROM node:20-slim
WORKDIR /app
COPY package.json package-lock.json ./
COPY bin ./bin
COPY scripts ./scripts
COPY src ./src
COPY tsconfig.json ./
COPY rego ./rego
RUN npm ci && npm prune --omit=dev \
 && mkdir -p /var/lib/pdp && chown 1000:1000 /var/lib/pdp
# Listening beyond loopback requires caller authentication (see deploy/pdp.yaml).
ENV PDP_ADDR=0.0.0.0 PDP_PORT=8181 PDP_WORKERS=1
# Not root: uid/gid 1000 is the image's `node` user. Numeric, so that Kubernetes' runAsNonRoot can
# verify it. /var/lib/pdp (persisted bundles, `persistence_directory`) is the only place it writes.
USER 1000:1000
EXPOSE 8181
# Liveness. The slim image has no curl or wget; node's fetch does. /health answers without caller
# authentication, like OPA's.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PDP_PORT||8181)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "bin/pdp.js", "serve", "--config", "/etc/pdp/pdp.yaml"]
