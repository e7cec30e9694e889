#!/usr/bin/env bash
# The uplink bench of docs/video.md: `livepose serve` and headless Chromium (the demo page,
# a fake camera playing the lab dance clip at 640x480, 30 fps) in a network namespace made
# here, whose loopback is limited with `tc qdisc … tbf` (netem is not available on these
# machines): 100, 8, 4 and 2 Mbit/s × JPEG without adaptation, JPEG with adaptation, H.264.
#
#   bash scripts/uplink.sh [--rates 100,8,4,2] [--modes jpeg,jpeg-adapt,h264]
#                          [--seconds 20] [--warmup 10] [--repeat 1] [--json FILE]
#
# As root the namespace is `unshare -n`; otherwise `unshare -rn` (a user namespace too,
# where the kernel allows it). The loopback gets an MTU of 1500 (at 65536 one packet would
# exceed the 64 KB bucket) and `tbf rate R burst 64kb latency 500ms`, on both directions of
# every connection (results are small). Needs iproute2, ffmpeg, Chromium, the demo's npm
# packages (`npm ci` in livepose-ws/demo), the models and clips (scripts/test-data.sh) and
# a release build (`cargo build --release --bin livepose`, or LIVEPOSE_BIN).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${LIVEPOSE_IN_NETNS:-}" ]; then
  command -v tc >/dev/null || { echo "uplink: tc not found (Debian package iproute2)" >&2; exit 1; }
  if [ "$(id -u)" = 0 ]; then
    exec unshare -n env LIVEPOSE_IN_NETNS=1 bash "$0" "$@"
  else
    exec unshare -rn env LIVEPOSE_IN_NETNS=1 bash "$0" "$@"
  fi
fi
ip link set lo up
ip link set lo mtu 1500
exec node livepose-ws/demo/bench/uplink.mjs "$@"
