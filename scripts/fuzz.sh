#!/usr/bin/env bash
# Runs every fuzz target for a while (default 60 s each), seeded from the golden wire vectors,
# small real images and the start of a real TFLite model. Needs cargo-fuzz
# (`cargo install cargo-fuzz`); the sanitizer flags
# need nightly, or RUSTC_BOOTSTRAP=1 on a stable toolchain.
#   scripts/fuzz.sh [seconds-per-target] [target ...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(frame_decode result_decode control_decode compat_decode image_decode onnx_prune tflite_parse options_parse jpeg_split h264_parse h264_decode)

corpus=fuzz/corpus
mkdir -p "$corpus"/{frame_decode,result_decode,control_decode,compat_decode,image_decode,onnx_prune,tflite_parse,options_parse,jpeg_split,h264_parse,h264_decode}
# Seeds: the golden vectors (valid and invalid), routed by message type.
for hex in livepose-core/tests/vectors/*.hex; do
  name=$(basename "$hex" .hex)
  bin="$corpus/tmp.bin"
  tr -d ' \n' < "$hex" | xxd -r -p > "$bin"
  case "$name" in
    frame_h264_*) cp "$bin" "$corpus/frame_decode/$name"; tail -c +41 "$bin" > "$corpus/h264_parse/$name" ;;
    frame_*|invalid_frame_*) cp "$bin" "$corpus/frame_decode/$name" ;;
    *) cp "$bin" "$corpus/result_decode/$name" ;;
  esac
  rm -f "$bin"
done
printf '%s' '{"type":"hello","protocol":1,"results":"json","model":"lite","hands":true}' > "$corpus/control_decode/hello"
printf '%s' '{"type":"config","smoothing":"ema","max_result_fps":15}' > "$corpus/control_decode/config"
printf '%s' '{"model":"full","hands":true,"mode":"image","smoothing":"none","threads":2,"num_poses":3,"models_dir":null}' > "$corpus/options_parse/all"
printf '%s' '{"num_poses":0}' > "$corpus/options_parse/out_of_range"
printf '%s' '{"type":"error","code":"truncated","message":"x","sequence":3,"fatal":false}' > "$corpus/control_decode/error"
printf '%s' '{"type":"keyframe_request","reason":"decode_error","sequence":17}' > "$corpus/control_decode/keyframe_request"
printf '%s' '{"image":"data:image/jpeg;base64,/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/wAALCAABAAEBAREA/8QAFAABAAAAAAAAAAAAAAAAAAAACf/EABQQAQAAAAAAAAAAAAAAAAAAAAD/2gAIAQEAAD8AKp//2Q==","timestamp":1.5,"sequence":1}' > "$corpus/compat_decode/jpeg"
# A small ONNX graph (x -> a -> Identity; a, w -> c -> Identity_2), as in the tests of livepose-core's onnx::graph.
echo 08083a670a0a0a017812016122024f700a110a016112084964656e7469747922024f700a0d0a01610a017712016322024f700a130a0163120a4964656e746974795f3222024f702a034201775a030a0178620a0a084964656e74697479620c0a0a4964656e746974795f3242056f70736574 \
  | xxd -r -p > "$corpus/onnx_prune/tiny_graph"
# The start of a real TFLite model (its FlatBuffer tables; the weights follow them).
# The test data folders (scripts/test-data.sh): $LIVEPOSE_MODELS / $LIVEPOSE_MEDIA, else
# $LIVEPOSE_SHARED/{models,media}, else ~/.cache/livepose/{models,media}.
data=${XDG_CACHE_HOME:-$HOME/.cache}/livepose
models=${LIVEPOSE_MODELS:-${LIVEPOSE_SHARED:+$LIVEPOSE_SHARED/models}}
models=${models:-$data/models}
media=${LIVEPOSE_MEDIA:-${LIVEPOSE_SHARED:+$LIVEPOSE_SHARED/media}}
media=${media:-$data/media}
model=$models/hand_landmark_lite.tflite
[ -f "$model" ] || model=$models/tflite/hand_landmark_lite.tflite
[ -f "$model" ] && head -c 16384 "$model" > "$corpus/tflite_parse/hand_landmark_head"
# Small real images for the image decoders.
clip=$media/outdoor_two_people_1768x994_30fps.mp4
if command -v ffmpeg >/dev/null && [ -f "$clip" ]; then
  for ext in jpg png webp; do
    ffmpeg -v error -y -i "$clip" -vf "select=eq(n\,30),scale=48:32" -frames:v 1 "$corpus/image_decode/frame.$ext" || true
  done
  # Three small JPEGs back to back, as a source's ffmpeg writes them (a first byte of 64:
  # the chunk size the target reads in).
  { printf '@'; ffmpeg -v error -i "$clip" -vf scale=48:32 -frames:v 3 -f mjpeg -; } > "$corpus/jpeg_split/three_frames" || true
  # Small H.264 streams (Annex B) from libx264: constrained baseline (CAVLC, as browsers
  # send), and high profile (CABAC, 8x8 transforms, B-frames, as cameras send).
  for profile in baseline high; do
    ffmpeg -v error -y -i "$clip" -vf scale=64:48 -frames:v 6 -c:v libx264 -profile:v "$profile" -g 4 -f h264 "$corpus/h264_decode/x264_$profile.h264" || true
  done
  for f in "$corpus"/h264_decode/*.h264; do [ -f "$f" ] && { printf '@'; cat "$f"; } > "$corpus/h264_parse/$(basename "$f")"; done
fi

export RUSTC_BOOTSTRAP=${RUSTC_BOOTSTRAP:-1}
for t in "${targets[@]}"; do
  echo "== fuzzing $t for ${seconds}s"
  cargo fuzz run "$t" "$corpus/$t" -- -max_total_time="$seconds" -rss_limit_mb=2048
done
