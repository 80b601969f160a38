# The single entry point (DESIGN.md §6).
.PHONY: setup start test bench soak eval train lint typecheck clean

setup:
	@bash scripts/setup.sh

start: setup
	node dist/src/main.js

test: setup
	@bash scripts/run-tests.sh

bench: setup
	node --import tsx load-tests/bench/overhead.ts
	node --import tsx load-tests/bench-local-chat.ts
	node --import tsx load-tests/bench-embeddings.ts
	python-sidecar/.venv/bin/python python-sidecar/bench_sidecar.py
	node --import tsx load-tests/bench-budget.ts
	node --import tsx load-tests/bench-inference-log.ts
	node --import tsx load-tests/bench-log-thread.ts
	node --import tsx load-tests/bench-cache.ts
	node --import tsx load-tests/bench-classifiers.ts
	node --import tsx load-tests/bench-dashboard.ts
	node --import tsx load-tests/bench-scale-out.ts

# 30 minutes of mixed traffic; RSS and event-loop lag every 10 s (SOAK_SECONDS to change; not in CI).
soak: setup
	node --import tsx load-tests/soak.ts

lint:
	./node_modules/.bin/eslint --max-warnings 0 .

eval: setup
	node --import tsx eval/run-routing-eval.ts
	node --import tsx eval/run-cache-eval.ts
	node --import tsx eval/run-quality-eval.ts
	node --import tsx eval/run-live-eval.ts

train: setup
	node --import tsx scripts/train-router.ts
	node --import tsx scripts/fit-quality-calibration.ts

typecheck:
	./node_modules/.bin/tsc -p tsconfig.json --noEmit

clean:
	rm -rf dist .test-results
