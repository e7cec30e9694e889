"""What Python pays for livepose, and what livepose saves Python, measured in one run.

1. Overhead of the Python binding: the wall time of ``Pipeline.process`` seen from Python
   against the pipeline's own time measured inside Rust (``result.timings["total"]``), for
   the same 640x480 frames and model (target: at most 5%).
2. Against the Python stack it replaces: OpenCV JPEG decode, the same landmark model on
   onnxruntime's Python API, NumPy/OpenCV pre- and post-processing (rotated crop by
   ``cv2.warpAffine``, tracking from the auxiliary landmarks, projection back), one thread
   per session like livepose. Ratio of per-frame times.

    pip install livepose opencv-python-headless
    python bench/bench_python.py [--models DIR] [--clip FILE]

--models defaults to $LIVEPOSE_MODELS, else $LIVEPOSE_SHARED/models, else
~/.cache/livepose/models (scripts/fetch-models.sh); --clip to lab_dance_1080x1920_60fps.mp4
in $LIVEPOSE_MEDIA, else $LIVEPOSE_SHARED/media, else ~/.cache/livepose/media
(scripts/fetch-media.sh).
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import time
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort

import livepose


def frames(clip: Path, count: int) -> list[bytes]:
    """`count` frames of `clip` scaled to fit 640x480 (portrait clips: 480x640), as JPEGs."""
    out = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(clip), "-frames:v", str(count), "-vf",
         "scale='if(gt(iw,ih),640,480)':'if(gt(iw,ih),480,640)'", "-f", "image2pipe",
         "-c:v", "mjpeg", "-q:v", "3", "-"],
        check=True, capture_output=True).stdout
    jpegs, start = [], 0
    while True:
        end = out.find(b"\xff\xd9", start)
        if end < 0:
            return jpegs
        jpegs.append(out[start:end + 2])
        start = end + 2


def data_dir(variable: str, name: str) -> Path:
    """`$variable`, else `$LIVEPOSE_SHARED/name`, else `~/.cache/livepose/name`."""
    if os.environ.get(variable):
        return Path(os.environ[variable])
    if os.environ.get("LIVEPOSE_SHARED"):
        return Path(os.environ["LIVEPOSE_SHARED"]) / name
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "livepose" / name


def median_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


class PythonStack:
    """BlazePose landmarks in live (tracking) mode the way a Python backend does it."""

    SIZE = 256

    def __init__(self, model: Path, first_rect: tuple[float, float, float, float]):
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
        self.rect = first_rect  # centre x, centre y, side, rotation (pixels, radians)

    def crop(self, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        cx, cy, side, angle = self.rect
        c, s = math.cos(angle), math.sin(angle)
        half = side / 2
        corners = np.float32([[-half, -half], [half, -half], [-half, half]])
        rotated = np.float32([[cx + x * c - y * s, cy + x * s + y * c] for x, y in corners])
        target = np.float32([[0, 0], [self.SIZE, 0], [0, self.SIZE]])
        forward = cv2.getAffineTransform(rotated, target)
        patch = cv2.warpAffine(rgb, forward, (self.SIZE, self.SIZE), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_CONSTANT)
        return patch, cv2.invertAffineTransform(forward)

    def process(self, jpeg: bytes) -> np.ndarray:
        bgr = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        patch, inverse = self.crop(rgb)
        tensor = (patch.astype(np.float32) / 255.0)[None]
        raw, presence, world = self.session.run(["Identity", "Identity_1", "Identity_4"], {"input_1": tensor})
        points = raw.reshape(39, 5)
        xy = points[:, :2] @ inverse[:, :2].T + inverse[:, 2]
        visibility = 1 / (1 + np.exp(-points[:, 3]))
        # Next region from the auxiliary points 33 (centre) and 34 (scale), as MediaPipe.
        (x0, y0), (x1, y1) = xy[33], xy[34]
        side = 2 * math.hypot(x1 - x0, y1 - y0) * 1.25
        angle = math.pi / 2 - math.atan2(-(y1 - y0), x1 - x0)
        self.rect = (x0, y0, side, angle)
        height, width = rgb.shape[:2]
        return np.column_stack([xy[:33, 0] / width, xy[:33, 1] / height, visibility[:33]])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", type=Path, default=data_dir("LIVEPOSE_MODELS", "models"))
    parser.add_argument("--clip", type=Path,
                        default=data_dir("LIVEPOSE_MEDIA", "media") / "lab_dance_1080x1920_60fps.mp4")
    parser.add_argument("--frames", type=int, default=300)
    args = parser.parse_args()
    jpegs = frames(args.clip, args.frames)
    rgbs = [cv2.cvtColor(cv2.imdecode(np.frombuffer(j, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB) for j in jpegs]
    height, width = rgbs[0].shape[:2]
    print(f"{len(jpegs)} frames of {args.clip.name} at {width}x{height}, lite model, one thread")

    for label, inputs in (("JPEG bytes", jpegs), ("RGB array", rgbs)):
        pipeline = livepose.Pipeline(model="lite", models_dir=args.models)
        wall, inside = [], []
        for i, image in enumerate(inputs * 2):
            start = time.perf_counter()
            result = pipeline.process(image, timestamp_us=i * 33_333)
            elapsed = time.perf_counter() - start
            if i >= len(inputs):  # the second pass: warm
                wall.append(elapsed)
                inside.append(result.timings["total"] / 1e6)
        overhead = (statistics.median(wall) - statistics.median(inside)) / statistics.median(inside)
        print(f"livepose from Python, {label}: process() {median_ms(wall):.3f} ms, pipeline in Rust "
              f"{median_ms(inside):.3f} ms, binding overhead {overhead * 100:+.1f}% (target <= 5%)")
        if label == "JPEG bytes":
            livepose_ms = median_ms(wall)
            first = livepose.Pipeline(model="lite", mode="image", models_dir=args.models).process(jpegs[0]).poses[0]
            ys, xs = first.landmarks[:, 1] * height, first.landmarks[:, 0] * width

    # Start the Python stack where livepose's detector found the person (its detector is not
    # part of the comparison: both track from then on).
    side = 1.25 * max(xs.max() - xs.min(), ys.max() - ys.min())
    stack = PythonStack(args.models / "pose_landmark_lite.onnx", (float(xs.mean()), float(ys.mean()), side, 0.0))
    times, ours = [], []
    for i, jpeg in enumerate(jpegs * 2):
        start = time.perf_counter()
        points = stack.process(jpeg)
        if i >= len(jpegs):
            times.append(time.perf_counter() - start)
            ours.append(points)
    python_ms = median_ms(times)
    # Both must be tracking the same person for the comparison to mean anything.
    check = livepose.Pipeline(model="lite", mode="image", models_dir=args.models)
    gaps = [np.abs(check.process(j).landmarks[0, :, :2] - p[:, :2]).mean() for j, p in zip(jpegs[::10], ours[::10])]
    print(f"Python stack agrees with livepose: mean landmark gap {statistics.mean(gaps):.4f} of the frame")
    print(f"Python stack (OpenCV + onnxruntime + NumPy), JPEG bytes: {python_ms:.3f} ms per frame; "
          f"livepose {livepose_ms:.3f} ms: {python_ms / livepose_ms:.2f}x faster")


if __name__ == "__main__":
    main()
