#!/usr/bin/env bash
# Installs what scripts/dist.sh put in dist/ the way a user without Rust does, and processes
# a real frame with each:
#   Python  a fresh virtualenv, `pip install dist/livepose-*.whl` (numpy and onnxruntime from
#           PyPI), a Pipeline on a JPEG frame of a real clip: at least one pose;
#   Node    an empty folder, `npm install` of the two tarballs (ONNXRUNTIME_NODE_INSTALL=skip:
#           onnxruntime-node's install script would fetch CUDA libraries from outside the npm
#           registry; the CPU library ships in the package), require('livepose'), the same frame.
# Both run with a PATH without cargo or rustc (checked: `command -v cargo` fails there), so a
# package that tried to compile at install would fail. Then, with cargo as a user who has it:
#   sdist   `pip wheel` of dist/livepose-<v>.tar.gz in a folder outside the checkout, and that
#           wheel installed (again without cargo) and run on the frame.
# --skip-sdist leaves the sdist out; --sdist-only runs only it.
# The frame: frame 10 of lab_dance_1080x1920_60fps.mp4, cut with ffmpeg, from
# $LIVEPOSE_MEDIA, else $LIVEPOSE_SHARED/media, else ~/.cache/livepose/media
# (scripts/fetch-media.sh), else ../shared/media beside the checkout. The models
# (pose_detection and pose_landmark_lite, .onnx) likewise from $LIVEPOSE_MODELS,
# $LIVEPOSE_SHARED/models, ~/.cache/livepose/models (scripts/fetch-models.sh), ../shared/models.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
run_binary=1
run_sdist=1
for arg in "$@"; do
  case $arg in
    --skip-sdist) run_sdist=0 ;;
    --sdist-only) run_binary=0 ;;
    *) echo "usage: scripts/check-dist.sh [--skip-sdist | --sdist-only]" >&2; exit 2 ;;
  esac
done

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
dist=$root/dist
wheel=$(ls "$dist"/livepose-"$version"-cp39-abi3-manylinux*_x86_64.whl 2>/dev/null || true)
sdist=$dist/livepose-$version.tar.gz
npm_main=$dist/livepose-$version.tgz
npm_platform=$dist/livepose-linux-x64-gnu-$version.tgz
for f in "$wheel" "$sdist" "$npm_main" "$npm_platform"; do
  [ -n "$f" ] && [ -f "$f" ] || { echo "check-dist: missing ${f:-the wheel} in dist/; run scripts/dist.sh" >&2; exit 1; }
done

# --- a real frame and the models: the folders the tests use (scripts/test-data.sh), else
# ../shared beside the checkout
cache=${XDG_CACHE_HOME:-$HOME/.cache}/livepose
data_dir() { # VARIABLE NAME FILE: the first folder that has FILE
  local dir
  for dir in "${!1:-}" ${LIVEPOSE_SHARED:+"$LIVEPOSE_SHARED/$2"} "$cache/$2" "$root/../shared/$2"; do
    [ -n "$dir" ] && [ -f "$dir/$3" ] && { (cd "$dir" && pwd); return; }
  done
  echo "check-dist: no $3 in \$$1, \$LIVEPOSE_SHARED/$2, $cache/$2 or ../shared/$2" >&2
  return 1
}
clip=lab_dance_1080x1920_60fps.mp4
media=$(data_dir LIVEPOSE_MEDIA media "$clip")
models=$(data_dir LIVEPOSE_MODELS models pose_landmark_lite.onnx)
export LIVEPOSE_MODELS=$models

work=$(mktemp -d /tmp/livepose-check-dist.XXXXXX)
trap 'rm -rf "$work"' EXIT
frame=$work/frame.jpg
ffmpeg -v error -i "$media/$clip" -vf 'select=eq(n\,10)' -frames:v 1 -q:v 3 "$frame"
echo "frame: $clip #10 ($(stat -c %s "$frame") bytes JPEG), models: $models"

# --- a PATH without cargo and rustc (rustup's ~/.cargo/bin, or wherever they are)
nocargo=
IFS=: read -r -a dirs <<< "$PATH"
for d in "${dirs[@]}"; do
  [ -n "$d" ] && [ ! -x "$d/cargo" ] && [ ! -x "$d/rustc" ] && nocargo=${nocargo:+$nocargo:}$d
done
if env PATH="$nocargo" bash -c 'command -v cargo || command -v rustc' >/dev/null; then
  echo "check-dist: cargo is still on the reduced PATH" >&2; exit 1
fi
without_cargo() { env -u CARGO_HOME -u RUSTUP_HOME PATH="$nocargo" "$@"; }

# Pipeline on the frame from Python: the venv's python, run from a folder outside the checkout.
python_frame() {
  (cd "$work" && without_cargo "$1/bin/python" - "$frame" <<'EOF'
import os, sys
import livepose
assert "/site-packages/" in livepose.__file__, livepose.__file__
import subprocess
assert subprocess.run(["sh", "-c", "command -v cargo"], capture_output=True).returncode != 0
pipeline = livepose.Pipeline(model="lite", hands=False, mode="image")
with open(sys.argv[1], "rb") as f:
    result = pipeline.process(f.read(), timestamp_us=0)
people = result.landmarks.shape[0]
assert people >= 1, "no pose found"
left, right = result.angles["left_elbow"], result.angles["right_elbow"]
print(f"python: {people} pose(s), landmarks {result.landmarks.shape}, "
      f"elbows {left:.0f}/{right:.0f} deg, total {result.timings['total'] / 1000:.1f} ms "
      f"(livepose {os.path.dirname(livepose.__file__)})")
EOF
  )
}

if [ "$run_binary" = 1 ]; then
  echo "== Python: fresh virtualenv, pip install $(basename "$wheel") (no cargo on PATH)"
  without_cargo python3 -m venv "$work/py"
  without_cargo "$work/py/bin/pip" install -q --disable-pip-version-check --only-binary=:all: "$wheel"
  "$work/py/bin/pip" list --disable-pip-version-check 2>/dev/null | grep -iE '^(livepose|numpy|onnxruntime) '
  python_frame "$work/py"

  echo "== Node: empty folder, npm install of the two tarballs (no cargo on PATH)"
  mkdir "$work/node"
  (cd "$work/node" && without_cargo env ONNXRUNTIME_NODE_INSTALL=skip \
    npm install --no-audit --no-fund --loglevel=error "$npm_main" "$npm_platform")
  (cd "$work/node" && without_cargo node - "$frame" <<'EOF'
const fs = require('node:fs');
const path = require('node:path');
const { execSync } = require('node:child_process');
const livepose = require('livepose');
// The addon is the platform package's, not one built in the package folder.
const installed = path.dirname(require.resolve('livepose/package.json'));
if (fs.readdirSync(installed).some((f) => f.endsWith('.node'))) throw new Error('a .node in the livepose folder');
const addon = require.resolve('@livepose/linux-x64-gnu');
let cargo = true;
try { execSync('command -v cargo', { stdio: 'ignore' }); } catch { cargo = false; }
if (cargo) throw new Error('cargo is on PATH');
(async () => {
  const pipeline = new livepose.Pipeline({ model: 'lite', hands: false, mode: 'image' });
  const result = await pipeline.process(fs.readFileSync(process.argv[2]), 0);
  if (result.poses.length < 1) throw new Error('no pose found');
  const elbow = (name) => result.poses[0].angles.find((a) => a.name === name).degrees.toFixed(0);
  console.log(`node: ${result.poses.length} pose(s), ${result.poses[0].landmarks.length / 5} landmarks, `
    + `elbows ${elbow('left_elbow')}/${elbow('right_elbow')} deg, total ${(result.timings.total / 1000).toFixed(1)} ms `
    + `(addon ${path.relative(process.cwd(), addon)}, ONNX Runtime ${path.relative(process.cwd(), process.env.ORT_DYLIB_PATH)})`);
})().catch((error) => { console.error(error); process.exit(1); });
EOF
  )
fi

if [ "$run_sdist" = 1 ]; then
  command -v cargo >/dev/null || { echo "check-dist: the sdist check needs cargo on PATH" >&2; exit 1; }
  echo "== sdist: pip wheel $(basename "$sdist") outside the checkout (with cargo)"
  # Built in the dev profile in target/ (the test build's compiled dependencies are reused):
  # this checks that the sdist carries everything a build needs; `pip install` of the sdist
  # builds release. CARGO_TARGET_DIR and MATURIN_PEP517_ARGS override.
  export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
  export MATURIN_PEP517_ARGS=${MATURIN_PEP517_ARGS:---profile dev}
  # The sdist's files all carry one fixed old mtime, so cargo could take an earlier build of
  # its own crates as fresh: those are cleaned first, the compiled dependencies are kept.
  cargo clean --profile dev --quiet --manifest-path "$root/livepose-py/Cargo.toml" \
    -p livepose-core -p livepose-ws -p livepose-py
  mkdir -p "$work/sdist"
  cp "$sdist" "$work/sdist/"
  python3 -m venv "$work/sdist/venv"
  (cd "$work/sdist" && venv/bin/pip wheel -q --disable-pip-version-check --no-deps \
    -w wheels "./$(basename "$sdist")")
  built=$(ls "$work"/sdist/wheels/livepose-*.whl)
  echo "built $(basename "$built") ($(stat -c %s "$built") bytes)"
  echo "== sdist's wheel: fresh virtualenv (no cargo on PATH)"
  without_cargo python3 -m venv "$work/py-sdist"
  without_cargo "$work/py-sdist/bin/pip" install -q --disable-pip-version-check "$built"
  python_frame "$work/py-sdist"
fi
echo "== check-dist: all passed"
