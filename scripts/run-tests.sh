#!/usr/bin/env bash
# Every check: typecheck, lint, the TypeScript suites (vitest) and the sidecar's pytest suite.
# Ends with one line `N passed, M failed` and exits non-zero if anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."
results=.test-results
rm -rf "$results" && mkdir -p "$results"

status=0
echo "== typecheck"
if ./node_modules/.bin/tsc -p tsconfig.json --noEmit && ./node_modules/.bin/tsc -p test/tsconfig.json --noEmit; then
  echo '{"passed":1,"failed":0}' > "$results/typecheck.json"
else
  echo '{"passed":0,"failed":1}' > "$results/typecheck.json"; status=1
fi

echo "== lint (eslint: typescript-eslint and STYLE.md's import boundaries)"
if ./node_modules/.bin/eslint --max-warnings 0 .; then
  echo '{"passed":1,"failed":0}' > "$results/lint.json"
else
  echo '{"passed":0,"failed":1}' > "$results/lint.json"; status=1
fi

echo "== vitest"
./node_modules/.bin/vitest run --reporter=default --reporter=json --outputFile.json="$results/vitest.json" || status=1

echo "== pytest (python-sidecar)"
(cd python-sidecar && .venv/bin/python -m pytest -q -p no:cacheprovider --junitxml="../$results/pytest.xml") || status=1

node scripts/summarize-tests.mjs "$results" || status=1
exit $status
