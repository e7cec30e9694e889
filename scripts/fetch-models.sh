#!/usr/bin/env bash
# Fetches MediaPipe's pose and hand models through the npm registry (`npm pack` of
# @mediapipe/pose and @mediapipe/hands), takes out the .tflite files (the pose detector is
# the whole packed-assets file of @mediapipe/pose; the palm detectors sit inside the hands
# packed assets at the offsets its loader script lists), checks their SHA-256, converts
# them to ONNX with livepose's own converter and leaves both in the models folder:
#   scripts/fetch-models.sh [folder]     default: $LIVEPOSE_MODELS, else ~/.cache/livepose/models
# Every livepose component looks there by default. Needs npm, python3 and cargo.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=${1:-${LIVEPOSE_MODELS:-${XDG_CACHE_HOME:-$HOME/.cache}/livepose/models}}
pose=@mediapipe/pose@0.5.1675469404
hands=@mediapipe/hands@0.4.1675469240
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "fetch-models: npm pack $pose $hands"
(cd "$work" && npm pack --silent "$pose" "$hands" >/dev/null)
mkdir -p "$work/pose" "$work/hands" "$dest"
tar xzf "$work"/mediapipe-pose-*.tgz -C "$work/pose"
tar xzf "$work"/mediapipe-hands-*.tgz -C "$work/hands"

python3 - "$work" "$dest" <<'PY'
import hashlib, json, re, sys
from pathlib import Path

work, dest = Path(sys.argv[1]), Path(sys.argv[2])
pose, hands = work / "pose/package", work / "hands/package"
# name -> (bytes, expected SHA-256)
expected = {
    "pose_detection.tflite": "a63c614bef30d35947f13be361820b1e4e3bec9cfeebf4d11216a18373108e85",
    "pose_landmark_lite.tflite": "f17bfbecadb61c3be1baa8b8d851cc6619c870a87167b32848ad20db306b9d61",
    "pose_landmark_full.tflite": "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f",
    "pose_landmark_heavy.tflite": "59e42d71bcd44cbdbabc419f0ff76686595fd265419566bd4009ef703ea8e1fe",
    "hand_landmark_lite.tflite": "d7fde8ac11f8ce03f8663775bfc323f4fc9f2a38062b4f4efa142874ef5b2a48",
    "hand_landmark_full.tflite": "8c026882c9ec059ce0f8e75266bee5a9a23c341a40e0000df755374d3d1b9b68",
    "palm_detection_lite.tflite": "e9a4aaddf90dda56a87235303cf00e4c2d3fb28725f68fd88772997dac905c18",
    "palm_detection_full.tflite": "2f25e740121983f68ffc05f99991d524dc0ea812134f6316a26125816941ee85",
}
files = {"pose_detection.tflite": (pose / "pose_solution_packed_assets.data").read_bytes()}
for name in ["pose_landmark_lite", "pose_landmark_full", "pose_landmark_heavy"]:
    files[name + ".tflite"] = (pose / f"{name}.tflite").read_bytes()
for name in ["hand_landmark_lite", "hand_landmark_full"]:
    files[name + ".tflite"] = (hands / f"{name}.tflite").read_bytes()
loader = (hands / "hands_solution_packed_assets_loader.js").read_text()
packed = (hands / "hands_solution_packed_assets.data").read_bytes()
for entry in json.loads(re.search(r'"files": (\[.*?\])', loader).group(1)):
    name = entry["filename"].rsplit("/", 1)[-1]
    if name.startswith("palm_detection_"):
        files[name] = packed[entry["start"]:entry["end"]]
for name, want in expected.items():
    data = files.get(name)
    if data is None:
        sys.exit(f"fetch-models: {name} not found in the npm packages")
    got = hashlib.sha256(data).hexdigest()
    if got != want:
        sys.exit(f"fetch-models: {name} has SHA-256 {got}, expected {want}")
    (dest / name).write_bytes(data)
    print(f"fetch-models: {name} ({len(data)} bytes, SHA-256 verified)")
PY

echo "fetch-models: converting to ONNX"
cargo run --quiet --profile "${LIVEPOSE_CARGO_PROFILE:-release}" --example livepose -- convert "$dest"
echo "fetch-models: models in $dest"
