"""What the TFLite interpreter itself computes on MediaPipe's models, for livepose's
converter tests (livepose-core/tests/tflite_convert.rs and tflite_models.rs).

    python tflite_oracle.py MODELS_DIR MEDIA_DIR OUT_DIR

For every known `.tflite` file in MODELS_DIR (or its `tflite/` subfolder), writes
OUT_DIR/<SHA-256 of the .tflite file>.npz (uncompressed numpy arrays, float32):
  input_<n>              the n-th input, NHWC: two of seeded uniform noise in the model's
                         input range, two crops of real frames of the clips in MEDIA_DIR
                         (ffmpeg, scaled to the input size, mapped to the range)
  output_<n>_<name>      the interpreter's output <name> (Identity, Identity_1, ...) on it
  densify_<index>        for every DENSIFY operator: its output (the dense fp16 weights,
                         widened to float32), keyed by the index of its sparse input tensor
  tflite_sha256          the SHA-256 of the model (as a string array), oracle_version
A file already there for the same model and the same oracle version is kept.

The interpreter is ai-edge-litert (Google's LiteRT, the TFLite runtime, from PyPI) with its
reference kernels (OpResolverType.BUILTIN_REF: no XNNPACK delegate, no optimized kernels),
one thread. scripts/tflite-oracle.sh installs it in a virtual environment and runs this.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from ai_edge_litert.interpreter import Interpreter, OpResolverType

VERSION = "1"

# stem -> input value range
MODELS = {
    "pose_detection": (-1.0, 1.0),
    "pose_landmark_lite": (0.0, 1.0),
    "pose_landmark_full": (0.0, 1.0),
    "pose_landmark_heavy": (0.0, 1.0),
    "palm_detection_lite": (0.0, 1.0),
    "palm_detection_full": (0.0, 1.0),
    "hand_landmark_lite": (0.0, 1.0),
    "hand_landmark_full": (0.0, 1.0),
}

# (clip, frame, ffmpeg crop filter): a square around the dancer, a square off the middle of
# the outdoor clip.
CROPS = [
    ("lab_dance_1080x1920_60fps.mp4", 30, "crop=1080:1080:0:500"),
    ("outdoor_two_people_1768x994_30fps.mp4", 60, "crop=700:700:300:200"),
]


def crop(media: Path, clip: str, frame: int, filter_: str, size: int) -> np.ndarray:
    path = media / clip
    if not path.is_file():
        sys.exit(f"tflite-oracle: missing clip {path}: fetch it with `bash scripts/fetch-media.sh`")
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path),
         "-vf", f"select=eq(n\\,{frame}),{filter_},scale={size}:{size}",
         "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        check=True, capture_output=True,
    ).stdout
    return np.frombuffer(raw, np.uint8).reshape(1, size, size, 3)


def inputs(stem: str, size: int, media: Path) -> list[np.ndarray]:
    lo, hi = MODELS[stem]
    rng = np.random.default_rng(list(stem.encode()))
    out = [rng.uniform(lo, hi, (1, size, size, 3)).astype(np.float32) for _ in range(2)]
    for clip, frame, filter_ in CROPS:
        rgb = crop(media, clip, frame, filter_, size).astype(np.float32)
        out.append((lo + (hi - lo) * rgb / np.float32(255)).astype(np.float32))
    return out


def run(path: Path, media: Path) -> dict[str, np.ndarray]:
    stem = path.stem
    interpreter = Interpreter(
        model_path=str(path),
        num_threads=1,
        experimental_op_resolver_type=OpResolverType.BUILTIN_REF,
        experimental_preserve_all_tensors=True,
    )
    interpreter.allocate_tensors()
    (input_,) = interpreter.get_input_details()
    outputs = interpreter.get_output_details()
    size = int(input_["shape"][1])
    arrays: dict[str, np.ndarray] = {}
    for n, x in enumerate(inputs(stem, size, media)):
        interpreter.set_tensor(input_["index"], x)
        interpreter.invoke()
        arrays[f"input_{n}"] = x
        for o in outputs:
            arrays[f"output_{n}_{o['name']}"] = interpreter.get_tensor(o["index"]).astype(np.float32)
    for op in interpreter._get_ops_details():
        if op["op_name"] == "DENSIFY":
            sparse, dense = op["inputs"][0], op["outputs"][0]
            arrays[f"densify_{sparse}"] = interpreter.get_tensor(dense).astype(np.float32)
    return arrays


def main() -> None:
    models, media, out = (Path(a) for a in sys.argv[1:4])
    out.mkdir(parents=True, exist_ok=True)
    found = 0
    for stem in MODELS:
        path = next((p for p in (models / f"{stem}.tflite", models / "tflite" / f"{stem}.tflite") if p.is_file()), None)
        if path is None:
            continue
        found += 1
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        target = out / f"{sha}.npz"
        if target.is_file():
            with np.load(target) as old:
                if "oracle_version" in old and str(old["oracle_version"][0]) == VERSION:
                    print(f"tflite-oracle: {stem} (already there)")
                    continue
        arrays = run(path, media)
        arrays["tflite_sha256"] = np.array([sha])
        arrays["oracle_version"] = np.array([VERSION])
        fd, tmp = tempfile.mkstemp(prefix=f".{sha}.", suffix=".npz", dir=out)
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, target)
        print(f"tflite-oracle: {stem} ({len(arrays)} arrays)")
    if found == 0:
        sys.exit(f"tflite-oracle: no MediaPipe .tflite files in {models}: fetch them with `bash scripts/fetch-models.sh`")


if __name__ == "__main__":
    main()
