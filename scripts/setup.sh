#!/usr/bin/env bash
# Installs the Debian packages that building, testing and benchmarking livepose need:
#   ffmpeg              test and bench frames are extracted from the shared clips; the
#                       server-side sources (`serve --source`) read through it, and
#                       their tests (livepose-ws/tests/sources.rs) serve MJPEG and RTP with it
#   xxd                 scripts/fuzz.sh turns the hex golden vectors into seed files
#   chromium            the browser demo's end-to-end test (headless)
#   nats-server         the cluster tests and bench (tests/cluster.rs; Debian puts it in /usr/sbin)
#   nodejs, npm         the demo's JavaScript tests (only if node is missing)
#   iproute2            `tc`: the uplink test and bench limit a network namespace's loopback
#                       (livepose-ws/demo/test/uplink.test.js, scripts/uplink.sh)
# ONNX Runtime from PyPI (scripts/setup-ort.sh), and the demo's npm packages
# (playwright-core, socket.io-client, ws; from livepose-ws/demo/package-lock.json).
# No C library: the default build needs none (libjpeg-turbo is the opt-in `turbojpeg`
# feature, for `cargo bench --bench image_ops --features turbojpeg` after installing
# Debian's libturbojpeg0-dev). Idempotent: installs only what is missing. Rust (cargo)
# must already be there.
set -euo pipefail
need=()
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
command -v xxd >/dev/null 2>&1 || need+=(xxd)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ] || need+=(nats-server)
command -v node >/dev/null 2>&1 || need+=(nodejs npm)
command -v tc >/dev/null 2>&1 || [ -x /usr/sbin/tc ] || [ -x /sbin/tc ] || need+=(iproute2)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  echo "setup: installing ${need[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
command -v cargo >/dev/null 2>&1 || { echo "setup: cargo not found; install Rust (rustup) first" >&2; exit 1; }
bash "$(dirname "$0")/setup-ort.sh"
demo="$(dirname "$0")/../livepose-ws/demo"
# npm ci unless every package the demo's package.json names is installed already.
(cd "$demo" && node -e "for (const d of Object.keys(require('./package.json').devDependencies)) require.resolve(d + '/package.json')" 2>/dev/null) \
  || (cd "$demo" && npm ci --no-audit --no-fund --loglevel=error)
