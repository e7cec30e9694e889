#!/usr/bin/env bash
# The demo of the current stage (livepose-core): decodes a real frame, builds the detector's
# letterboxed tensor and a rotated landmark crop (written as PNGs to demo-out/), and sends the
# frame through the binary wire protocol and the JSON+base64 format it replaces.
#   scripts/demo.sh [image.jpg]      (default: frame 40 of the shared dance clip)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
out=demo-out
mkdir -p "$out"
image=${1:-}
if [ -z "$image" ]; then
  shared=${LIVEPOSE_SHARED:-$(cd .. && pwd)/shared}
  clip="$shared/media/lab_dance_1080x1920_60fps.mp4"
  [ -f "$clip" ] || { echo "demo: no image given and $clip not found" >&2; exit 1; }
  image="$out/frame.jpg"
  ffmpeg -v error -y -i "$clip" -vf "select=eq(n\,40)" -frames:v 1 -q:v 4 "$image"
fi
cargo run --release --locked -q --example crop_tensor -- "$image" "$out" 20
echo
cargo run --release --locked -q --example wire_roundtrip -- "$image"
