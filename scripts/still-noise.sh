#!/usr/bin/env bash
# A still person with camera noise: frame FRAME of CLIP, scaled to SIZE (WxH), held for
# SECONDS at FPS with ffmpeg's temporal `noise` filter (strength 12, seed 42, so the same
# ffmpeg makes the same pixels every time), written losslessly (FFV1 in Matroska) to OUT.
# The clip the smoothing bench measures jitter on, and the one MediaPipe's reference for it
# was made on (scripts/smoothing-reference.py; benches/data/smoothing/README.md):
#   scripts/still-noise.sh CLIP FRAME SIZE SECONDS FPS OUT
set -euo pipefail
[ $# -eq 6 ] || { echo "usage: $0 CLIP FRAME WxH SECONDS FPS OUT" >&2; exit 2; }
clip=$1 frame=$2 size=$3 seconds=$4 fps=$5 out=$6
frames=$((seconds * fps))
ffmpeg -v error -y -i "$clip" \
  -vf "select=eq(n\\,$frame),scale=${size/x/:},loop=loop=$((frames - 1)):size=1:start=0,setpts=N/$fps/TB,noise=alls=12:allf=t:all_seed=42" \
  -r "$fps" -frames:v "$frames" -c:v ffv1 "$out"
