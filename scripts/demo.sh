#!/usr/bin/env bash
# The demo: poses and hands on a real clip with the `livepose` command line (JSON lines and
# a rendered video in demo-out/), then a frame through the binary wire protocol and the
# JSON+base64 format it replaces.
#   scripts/demo.sh [clip.mp4 | folder of JPEGs]   (default: the shared dance clip)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
out=demo-out
mkdir -p "$out"
shared=${LIVEPOSE_SHARED:-$(cd .. && pwd)/shared}
input=${1:-$shared/media/lab_dance_1080x1920_60fps.mp4}
[ -e "$input" ] || { echo "demo: $input not found" >&2; exit 1; }
export LIVEPOSE_MODELS=${LIVEPOSE_MODELS:-$shared/models}
cargo run --release --locked -q --example livepose -- run "$input" --model full --hands \
  --out "$out/poses.jsonl" --render "$out/rendered.mp4"
echo
frame="$out/frame.jpg"
ffmpeg -v error -y -i "$shared/media/lab_dance_1080x1920_60fps.mp4" -vf "select=eq(n\,40)" \
  -frames:v 1 -q:v 4 "$frame"
cargo run --release --locked -q --example wire_roundtrip -- "$frame"
