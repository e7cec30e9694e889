#!/usr/bin/env bash
# Fetches the test clips from PyPI: the demo videos that ship inside the Pose2Sim and
# Sports2D wheels (both BSD-3-Clause), taken out of the wheel (a zip archive), SHA-256
# checked and left in the media folder under livepose's names:
#   scripts/fetch-media.sh [folder [clip ...]]   default folder: $LIVEPOSE_MEDIA, else
#                                                ~/.cache/livepose/media; default: every clip
# A clip already there with the right SHA-256 is kept; one in $LIVEPOSE_SHARED/media or
# ../shared/media beside the checkout with the right SHA-256 is copied instead of
# downloaded. Prints one line per clip. Needs python3 with pip (no other packages: the
# wheels are downloaded with --no-deps and never installed).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-${LIVEPOSE_MEDIA:-${XDG_CACHE_HOME:-$HOME/.cache}/livepose/media}}
[ $# -gt 0 ] && shift
mkdir -p "$dest"

LIVEPOSE_CLIPS="$*" python3 - "$dest" "${LIVEPOSE_SHARED:-}" "$repo/../shared" <<'PY'
from __future__ import annotations

import hashlib, os, shutil, subprocess, sys, tempfile, zipfile
from pathlib import Path

dest = Path(sys.argv[1])
local = [Path(p) / "media" for p in sys.argv[2:] if p]
# name -> (wheel, member, SHA-256)
CLIPS = {
    "lab_dance_1080x1920_60fps.mp4": (
        "pose2sim==0.10.49", "Pose2Sim/Demo_SinglePerson/videos/cam02.mp4",
        "94ff87cf978b8406e8aa36ab3c5362e72848994e87652f0dc7a33c315e8e0442"),
    "multi_two_dancers_1088x1920_60fps.mp4": (
        "pose2sim==0.10.49", "Pose2Sim/Demo_MultiPerson/videos/cam02.mp4",
        "8895092a7cf26359205a427b7ac2f4a935c2e0bd36d9b7a5140cb33faa468a6b"),
    # Three more views of the two-dancer scene (MediaPipe's output on them: livepose-core/tests/data/reference).
    "multi_cam01_1088x1920_60fps.mp4": (
        "pose2sim==0.10.49", "Pose2Sim/Demo_MultiPerson/videos/cam01.mp4",
        "543cee6a4c2c2b52dc9eac9137ee63d14f1f84e706a9a7264769edcb11e5ea53"),
    "multi_cam03_1088x1920_60fps.mp4": (
        "pose2sim==0.10.49", "Pose2Sim/Demo_MultiPerson/videos/cam03.mp4",
        "d3daf48cdf9f5603868ddb99166ddaf9b12279e7ce968922926560d5fd3f0c99"),
    "multi_cam04_1088x1920_60fps.mp4": (
        "pose2sim==0.10.49", "Pose2Sim/Demo_MultiPerson/videos/cam04.mp4",
        "1490149dc40e7301fa5ceae23862b044ba5c398a8b2a40df21ed894702728c09"),
    "outdoor_two_people_1768x994_30fps.mp4": (
        "sports2d==0.8.34", "Sports2D/Demo/demo.mp4",
        "d9a66417185647b112304b57093f0c180f37a768e6a14daca75ca541f3b78039"),
}


def sha256(path: Path) -> str | None:
    try:
        with open(path, "rb") as f:
            h = hashlib.sha256()
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
            return h.hexdigest()
    except OSError:
        return None


def put(name: str, data: bytes) -> None:
    """Writes dest/name atomically (temporary file in the same folder, then rename)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=dest)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest / name)
    except BaseException:
        os.unlink(tmp)
        raise


wheels: dict[str, Path] = {}
work = Path(tempfile.mkdtemp(prefix="livepose-media-"))
try:
    wanted = os.environ.get("LIVEPOSE_CLIPS", "").split() or list(CLIPS)
    for unknown in set(wanted) - set(CLIPS):
        sys.exit(f"fetch-media: no clip named {unknown} (known: {', '.join(CLIPS)})")
    for name in wanted:
        requirement, member, want = CLIPS[name]
        if sha256(dest / name) == want:
            print(f"fetch-media: {name} (already there, SHA-256 verified)")
            continue
        copy = next((d / name for d in local if sha256(d / name) == want), None)
        if copy is not None:
            put(name, copy.read_bytes())
            print(f"fetch-media: {name} (copied from {copy.parent}, SHA-256 verified)")
            continue
        if requirement not in wheels:
            out = work / requirement.split("==")[0]
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                 "--only-binary=:all:", "--disable-pip-version-check", "--dest", str(out),
                 requirement],
                check=True, stdout=subprocess.DEVNULL,
            )
            (wheels[requirement],) = out.glob("*.whl")
        with zipfile.ZipFile(wheels[requirement]) as wheel:
            data = wheel.read(member)
        got = hashlib.sha256(data).hexdigest()
        if got != want:
            sys.exit(f"fetch-media: {member} in {wheels[requirement].name} has SHA-256 {got}, expected {want}")
        put(name, data)
        print(f"fetch-media: {name} ({len(data)} bytes from {wheels[requirement].name}, SHA-256 verified)")
finally:
    shutil.rmtree(work)
PY
