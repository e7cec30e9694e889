#!/usr/bin/env bash
# The quick start, on a fresh Debian machine with Rust, Python and Node:
#   1. ONNX Runtime from PyPI (scripts/setup-ort.sh) and ffmpeg;
#   2. MediaPipe's models through npm (scripts/fetch-models.sh), unless already there;
#   3. a sample clip of real people through PyPI: the Sports2D package ships Demo/demo.mp4;
#   4. the example server, and a stream of the clip through it printing live results and
#      fps; the server stays up for the browser demo at http://127.0.0.1:8765/.
#   scripts/quickstart.sh [--ci]     --ci: stop the server at the end and check the results
# Models go to $LIVEPOSE_MODELS or ~/.cache/livepose/models, the clip to ~/.cache/livepose/media.
# LIVEPOSE_CARGO_PROFILE=dev builds unoptimised (CI, which has that build already).
set -euo pipefail
cd "$(dirname "$0")/.."
ci=false
[ "${1:-}" = "--ci" ] && ci=true
cache=${XDG_CACHE_HOME:-$HOME/.cache}/livepose
export LIVEPOSE_MODELS=${LIVEPOSE_MODELS:-$cache/models}
port=${LIVEPOSE_PORT:-8765}

command -v ffmpeg >/dev/null 2>&1 || {
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends ffmpeg >/dev/null
}
bash scripts/setup-ort.sh
[ -f "$LIVEPOSE_MODELS/pose_landmark_lite.onnx" ] || bash scripts/fetch-models.sh "$LIVEPOSE_MODELS"

clip=$cache/media/demo.mp4
if [ ! -f "$clip" ]; then
  echo "quickstart: sample clip from PyPI (sports2d==0.8.34, Demo/demo.mp4)"
  mkdir -p "$cache/media"
  wheels=$(mktemp -d)
  python3 -m pip download --quiet --no-deps --dest "$wheels" sports2d==0.8.34
  python3 - "$wheels" "$clip" <<'PY'
import hashlib, sys, zipfile
from pathlib import Path
wheel = next(Path(sys.argv[1]).glob("sports2d-*.whl"))
data = zipfile.ZipFile(wheel).read("Sports2D/Demo/demo.mp4")
want = "d9a66417185647b112304b57093f0c180f37a768e6a14daca75ca541f3b78039"
if hashlib.sha256(data).hexdigest() != want:
    sys.exit("quickstart: demo.mp4 does not have the expected SHA-256")
Path(sys.argv[2]).write_bytes(data)
PY
  rm -rf "$wheels"
fi

profile=${LIVEPOSE_CARGO_PROFILE:-release}
bin=target/$([ "$profile" = dev ] && echo debug || echo "$profile")/examples
echo "quickstart: building the example server and client ($profile)"
cargo build --quiet --profile "$profile" --example serve --example stream
log=$cache/serve.log
"$bin/serve" --port "$port" > "$log" 2>&1 &
server=$!
for _ in $(seq 1 100); do
  grep -q "^livepose: ws://" "$log" 2>/dev/null && break
  kill -0 "$server" 2>/dev/null || { cat "$log"; echo "quickstart: the server did not start" >&2; exit 1; }
  sleep 0.2
done
echo "quickstart: server up (pid $server); streaming $clip"
results=$cache/results.jsonl
"$bin/stream" "$clip" --url "ws://127.0.0.1:$port/ws" --out "$results"
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
