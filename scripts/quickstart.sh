#!/usr/bin/env bash
# The quick start, on a fresh Debian machine with Rust, Python and Node (nothing else):
#   1. ffmpeg (Debian) and ONNX Runtime (PyPI, scripts/setup-ort.sh);
#   2. the `livepose` command, built from this checkout (`cargo build --release --bin livepose`;
#      `cargo install --path .` puts the same command on PATH);
#   3. MediaPipe's models through npm: `livepose models fetch` (SHA-256 checked, converted
#      to ONNX), unless already there;
#   4. a clip of two real people through PyPI (the Sports2D package's Demo/demo.mp4,
#      scripts/fetch-media.sh);
#   5. `livepose serve`, and `livepose stream` of the clip through it, printing live
#      results, fps and latency; the server stays up for the browser demo.
#   scripts/quickstart.sh [--ci]     --ci: stop the server at the end and check the results
# Models go to $LIVEPOSE_MODELS or ~/.cache/livepose/models, the clip to ~/.cache/livepose/media.
# LIVEPOSE_CARGO_PROFILE=dev builds the dev profile (our code unoptimised, dependencies optimised), as CI does.
set -euo pipefail
cd "$(dirname "$0")/.."
ci=false
[ "${1:-}" = "--ci" ] && ci=true
cache=${XDG_CACHE_HOME:-$HOME/.cache}/livepose
export LIVEPOSE_MODELS=${LIVEPOSE_MODELS:-$cache/models}
port=${LIVEPOSE_PORT:-8765}

command -v ffmpeg >/dev/null 2>&1 || {
  echo "quickstart: installing ffmpeg (Debian)"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends ffmpeg >/dev/null
}
bash scripts/setup-ort.sh

profile=${LIVEPOSE_CARGO_PROFILE:-release}
echo "quickstart: building the livepose command ($profile)"
cargo build --quiet --locked --profile "$profile" --bin livepose
livepose=target/$([ "$profile" = dev ] && echo debug || echo "$profile")/livepose

"$livepose" models fetch "$LIVEPOSE_MODELS"
clip=$cache/media/outdoor_two_people_1768x994_30fps.mp4
bash scripts/fetch-media.sh "$cache/media" "$(basename "$clip")"

log=$cache/serve.log
"$livepose" serve --port "$port" > "$log" 2>&1 &
server=$!
for _ in $(seq 1 100); do
  grep -q "^livepose: ws://" "$log" 2>/dev/null && break
  kill -0 "$server" 2>/dev/null || { cat "$log"; echo "quickstart: the server did not start" >&2; exit 1; }
  sleep 0.2
done
echo "quickstart: server up (pid $server); streaming $clip"
results=$cache/results.jsonl
"$livepose" stream "$clip" --url "ws://127.0.0.1:$port/ws" --out "$results"
frames=$(wc -l < "$results")
with_pose=$(grep -c '"poses":\[{' "$results" || true)
echo "quickstart: $frames results, $with_pose with a pose, written to $results"
if $ci; then
  kill -INT "$server"
  wait "$server" || true
  [ "$frames" -gt 0 ] && [ "$with_pose" -gt 0 ] || { echo "quickstart: no poses came back" >&2; exit 1; }
  echo "quickstart: ok"
else
  echo "quickstart: the server is still up: open http://127.0.0.1:$port/ for the browser demo (stop it with: kill $server)"
fi
