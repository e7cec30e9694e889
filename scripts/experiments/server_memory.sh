#!/usr/bin/env bash
# Resident memory of `livepose serve`: idle after start, then during and after K streams at
# F fps (examples/load.rs). Not part of the test suite.
#
#   cargo build --release --bin livepose --example load
#   scripts/experiments/server_memory.sh [LIVEPOSE] [LOAD] [extra serve options...]
#
# LIVEPOSE and LOAD default to target/release/{livepose,examples/load}. Models come from
# LIVEPOSE_MODELS, the clip from LIVEPOSE_MEDIA (as for the tests); STREAMS, FPS, DURATION
# (seconds) and PORT override 16, 30, 15 and 8790. Further arguments go to `serve`
# (`--workers 4`, `--model full`).
set -euo pipefail
target=${CARGO_TARGET_DIR:-target}
bin=${1:-$target/release/livepose}
load=${2:-$target/release/examples/load}
shift $(($# < 2 ? $# : 2))
port=${PORT:-8790}
streams=${STREAMS:-16} fps=${FPS:-30} seconds=${DURATION:-15}
: "${LIVEPOSE_MODELS:?set LIVEPOSE_MODELS}"

rss() { awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
hwm() { awk '/^VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }

"$bin" serve --models "$LIVEPOSE_MODELS" --port "$port" --no-demo "$@" >/dev/null 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
  sleep 0.2
done
sleep 2
echo "idle: rss $(rss $pid) MB"
"$load" --server "127.0.0.1:$port" --streams "$streams" --fps "$fps" --seconds "$seconds" 2>&1 | tail -2
echo "under load ($streams x $fps fps): peak rss (VmHWM) $(hwm $pid) MB"
sleep 3
echo "after load: rss $(rss $pid) MB"
