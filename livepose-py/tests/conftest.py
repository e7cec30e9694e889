"""Shared fixtures: the test clips and models, MediaPipe's reference landmarks, frames cut
by ffmpeg.

Where they are (the same rules as the Rust tests' livepose-test-support/src/data.rs):
clips in $LIVEPOSE_MEDIA, else $LIVEPOSE_SHARED/media when LIVEPOSE_SHARED is set, else
~/.cache/livepose/media (scripts/fetch-media.sh); models in $LIVEPOSE_MODELS, else
$LIVEPOSE_SHARED/models, else ~/.cache/livepose/models (scripts/fetch-models.sh);
reference landmarks in livepose-core/tests/data/reference/ of the checkout. ~/.cache is $XDG_CACHE_HOME
when set. scripts/test-data.sh fetches everything.
"""

from __future__ import annotations

import os
import subprocess
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
LAB = "lab_dance_1080x1920_60fps.mp4"
OUTDOOR = "outdoor_two_people_1768x994_30fps.mp4"
MODEL_STEMS = [
    "pose_detection", "pose_landmark_lite", "pose_landmark_full", "palm_detection_lite",
    "palm_detection_full", "hand_landmark_lite", "hand_landmark_full",
]


def _data_dir(variable: str, name: str) -> Path:
    if os.environ.get(variable):
        return Path(os.environ[variable])
    if os.environ.get("LIVEPOSE_SHARED"):
        return Path(os.environ["LIVEPOSE_SHARED"]) / name
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "livepose" / name


MEDIA = _data_dir("LIVEPOSE_MEDIA", "media")
MODELS = _data_dir("LIVEPOSE_MODELS", "models")
REFERENCE = REPO / "livepose-core" / "tests" / "data" / "reference"


def clip_path(clip: str) -> Path:
    """The clip `clip`, which must exist."""
    path = MEDIA / clip
    assert path.is_file(), (
        f"missing clip {path}: fetch the clips with `bash scripts/fetch-media.sh {MEDIA}` "
        "(or set LIVEPOSE_MEDIA to a folder that has them)")
    return path


@pytest.fixture(scope="session")
def models_dir() -> Path:
    """The models folder, checked to hold the models as .onnx."""
    for stem in MODEL_STEMS:
        path = MODELS / f"{stem}.onnx"
        assert path.is_file(), (
            f"missing model {path}: fetch MediaPipe's models with `bash scripts/fetch-models.sh {MODELS}` "
            f"(`livepose models fetch {MODELS}`), or set LIVEPOSE_MODELS to a folder that has them")
    return MODELS


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """MediaPipe's reference landmarks (livepose-core/tests/data/reference/README.md)."""
    assert REFERENCE.is_dir(), f"{REFERENCE} not found: it is part of the checkout"
    return REFERENCE


@pytest.fixture(scope="session")
def vectors_dir() -> Path:
    return REPO / "livepose-core" / "tests" / "vectors"


def _ffmpeg(clip: str, index: int, args: list[str]) -> bytes:
    return subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(clip_path(clip)),
         "-vf", f"select=eq(n\\,{index})" + (f",scale={args[0]}" if args[0] else ""),
         "-frames:v", "1", "-f", *args[1:], "-"],
        check=True, capture_output=True,
    ).stdout


@lru_cache(maxsize=None)
def jpeg_frame(clip: str, index: int, size: str = "") -> bytes:
    """Frame `index` of `clip` as a JPEG (scaled to `size`, "W:H", if given)."""
    return _ffmpeg(clip, index, [size, "image2pipe", "-c:v", "mjpeg", "-q:v", "3"])


@lru_cache(maxsize=None)
def rgb_frame(clip: str, index: int, width: int, height: int) -> np.ndarray:
    """Frame `index` of `clip` as an RGB array of shape (height, width, 3)."""
    raw = _ffmpeg(clip, index, [f"{width}:{height}", "rawvideo", "-pix_fmt", "rgb24"])
    return np.frombuffer(raw, dtype=np.uint8).reshape(height, width, 3)
