# The PDP image: builds the compiler, the wasm runtime and the default bundle at image build time.
FROM node:20-slim
WORKDIR /app
COPY package.json package-lock.json ./
COPY bin ./bin
COPY scripts ./scripts
COPY src ./src
COPY tsconfig.json ./
COPY rego ./rego
RUN npm ci && npm prune --omit=dev
# Listening beyond loopback requires caller authentication (see deploy/pdp.yaml).
ENV PDP_ADDR=0.0.0.0 PDP_PORT=8181 PDP_WORKERS=1
EXPOSE 8181
CMD ["node", "bin/pdp.js", "serve", "--config", "/etc/pdp/pdp.yaml"]
