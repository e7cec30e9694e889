"""Shared fixtures: the shared clips and models beside the checkout, frames cut by ffmpeg."""

from __future__ import annotations

import os
import subprocess
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("LIVEPOSE_SHARED", REPO.parent / "shared"))
LAB = "lab_dance_1080x1920_60fps.mp4"
OUTDOOR = "outdoor_two_people_1768x994_30fps.mp4"


@pytest.fixture(scope="session")
def shared() -> Path:
    assert (SHARED / "media").is_dir(), f"shared clips not found at {SHARED} (set LIVEPOSE_SHARED)"
    return SHARED


@pytest.fixture(scope="session")
def models_dir(shared: Path) -> Path:
    return shared / "models"


@pytest.fixture(scope="session")
def vectors_dir() -> Path:
    return REPO / "tests" / "vectors"


def _ffmpeg(clip: str, index: int, args: list[str]) -> bytes:
    return subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(SHARED / "media" / clip),
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
