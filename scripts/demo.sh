#!/usr/bin/env bash
# The demo: poses and hands on a real clip with `livepose run` (JSON lines and a rendered
# video in demo-out/), then a frame through the binary wire protocol and the JSON+base64
# format it replaces.
#   scripts/demo.sh [clip.mp4 | folder of JPEGs]   (default: the dance clip, from PyPI)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cache=${XDG_CACHE_HOME:-$HOME/.cache}/livepose
media=${LIVEPOSE_MEDIA:-$cache/media}
export LIVEPOSE_MODELS=${LIVEPOSE_MODELS:-$cache/models}
clip=lab_dance_1080x1920_60fps.mp4
bash scripts/fetch-media.sh "$media" "$clip"
input=${1:-$media/$clip}
[ -e "$input" ] || { echo "demo: $input not found" >&2; exit 1; }
cargo build --release --locked -q --bin livepose --example wire_roundtrip
target/release/livepose models fetch "$LIVEPOSE_MODELS"
out=demo-out
mkdir -p "$out"
target/release/livepose run "$input" --model full --hands \
  --out "$out/poses.jsonl" --render "$out/rendered.mp4"
echo
frame="$out/frame.jpg"
ffmpeg -v error -y -i "$media/$clip" -vf "select=eq(n\,40)" -frames:v 1 -q:v 4 "$frame"
target/release/examples/wire_roundtrip "$frame"
