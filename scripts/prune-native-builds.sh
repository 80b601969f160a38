#!/usr/bin/env bash
# Removes from node_modules the native builds this machine never loads: about 900 MB of 1.3 GB.
# - node-llama-cpp lists a prebuilt llama.cpp for every platform and GPU API as optional
#   dependencies (@node-llama-cpp/*), and npm installs every one that names this OS, the ARM builds
#   included (they list x64 among their CPUs). Sluice asks for the CPU build
#   (adapters/llama-cpp/shared-llama.ts: gpu: false), so the CUDA and Vulkan builds are never
#   loaded, GPU or not: only @node-llama-cpp/<os>-<arch> stays.
# - onnxruntime-node carries its binding for every OS inside the package and loads
#   bin/napi-v6/<platform>/<arch> alone.
# `npm ci` brings them back (it starts from an empty node_modules), and so may `npm prune`: run this
# after either. Idempotent: with nothing left to remove it returns at once. When it removed
# something it loads both runtimes (scripts/check-native-runtimes.mjs) and fails if either broke.
# `--dry-run` lists what would go, removing nothing.
set -euo pipefail
shopt -s nullglob
cd "$(dirname "$0")/.."

dry_run=false
[ "${1:-}" = "--dry-run" ] && dry_run=true
platform=$(node -p 'process.platform + " " + process.arch')
os=${platform% *}
arch=${platform#* }
doomed=()

# node-llama-cpp's package names for its CPU builds on Linux (bindings/utils/compileLLamaCpp.js).
case "$os/$arch" in
  linux/x64) llama_build=linux-x64 ;;
  linux/arm64) llama_build=linux-arm64 ;;
  linux/arm) llama_build=linux-armv7l ;;
  *) llama_build= ;; # elsewhere: keep everything rather than guess
esac
if [ -n "$llama_build" ] && [ -d "node_modules/@node-llama-cpp/$llama_build" ]; then
  for build in node_modules/@node-llama-cpp/*/; do
    build=${build%/}
    [ "${build##*/}" = "$llama_build" ] || doomed+=("$build")
  done
fi

bindings=node_modules/onnxruntime-node/bin/napi-v6
if [ -d "$bindings/$os/$arch" ]; then
  for dir in "$bindings"/*/ "$bindings/$os"/*/; do
    dir=${dir%/}
    case "$dir" in "$bindings/$os" | "$bindings/$os/$arch") ;; *) doomed+=("$dir") ;; esac
  done
fi

[ ${#doomed[@]} -eq 0 ] && exit 0
if $dry_run; then
  du -sh "${doomed[@]}"
  exit 0
fi
echo "setup: removing native builds this machine does not load ($(du -shc "${doomed[@]}" | tail -1 | cut -f1)): ${doomed[*]#node_modules/}"
rm -rf "${doomed[@]}"
node scripts/check-native-runtimes.mjs
