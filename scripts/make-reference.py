#!/usr/bin/env python3
"""MediaPipe's own Pose Landmarker output on a clip, frame by frame: the reference landmarks
under livepose-core/tests/data/reference/ (format in that folder's README).

Needs mediapipe (1.2.2 made the references), numpy and ffmpeg. The Tasks API takes a
`.task` bundle: a zip of `pose_detector.tflite` and `pose_landmarks_detector.tflite`, each
with TFLite metadata that says how to normalise the input image. `--task` takes one;
without it, `--models DIR` builds it from MediaPipe's `.tflite` files
(`pose_detection.tflite` and `pose_landmark_<model>.tflite`, as `livepose models fetch DIR`
or `scripts/fetch-models.sh` leave them; a `tflite/` subfolder is looked in too), adding
that metadata with MediaPipe's own metadata writer.

    python3 -m venv /tmp/mpvenv && /tmp/mpvenv/bin/pip install mediapipe==1.2.2
    /tmp/mpvenv/bin/python scripts/make-reference.py --models ~/.cache/livepose/models \\
        --num-poses 2 --mode video CLIP.mp4 > CLIP.full.video.jsonl

Frames are decoded by ffmpeg to RGB at the clip's own size, in order, from frame 0; in
video mode frame i gets the timestamp round(i * 1000 / fps) milliseconds. Coordinates are
rounded to 5 decimals.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from fractions import Fraction

import mediapipe as mp
import numpy as np
from mediapipe.tasks.python import vision
from mediapipe.tasks.python.core.base_options import BaseOptions


def _metadata_writers():
    """MediaPipe's metadata writer. The pip wheel lacks the small native module that names
    the lowest metadata parser version able to read a buffer; what the writer writes here
    (an image input with normalisation and plain outputs) is readable from version 1.0.0 on,
    which is what that module answers for it."""
    import importlib
    import types
    name = "mediapipe.tasks.cc.metadata.python._pywrap_metadata_version"
    try:
        importlib.import_module(name)
    except ImportError:
        parts = name.split(".")
        for i in range(3, len(parts) + 1):  # mediapipe.tasks.cc, ..., the module itself
            sys.modules.setdefault(".".join(parts[:i]), types.ModuleType(".".join(parts[:i])))
            if i > 3:
                setattr(sys.modules[".".join(parts[:i - 1])], parts[i - 1],
                        sys.modules[".".join(parts[:i])])
        sys.modules[name].GetMinimumMetadataParserVersion = lambda _buf: "1.0.0"
    from mediapipe.tasks.python.metadata.metadata_writers import (
        metadata_writer, model_asset_bundle_utils, writer_utils)
    return metadata_writer, model_asset_bundle_utils, writer_utils


def probe(clip):
    """Width, height and frame rate (ffprobe's r_frame_rate) of the clip's video stream."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0",
         "-show_entries", "stream=width,height,r_frame_rate", "-of", "json", clip],
        check=True, capture_output=True, text=True).stdout
    s = json.loads(out)["streams"][0]
    return int(s["width"]), int(s["height"]), float(Fraction(s["r_frame_rate"]))


def frames(clip, width, height):
    """Every frame as an RGB uint8 array of shape (height, width, 3)."""
    proc = subprocess.Popen(
        ["ffmpeg", "-v", "error", "-i", clip, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        stdout=subprocess.PIPE)
    size = width * height * 3
    while True:
        buf = proc.stdout.read(size)
        if len(buf) < size:
            break
        yield np.frombuffer(buf, np.uint8).reshape(height, width, 3)
    if proc.wait() != 0:
        sys.exit(f"ffmpeg failed on {clip}")


def find_tflite(models, name):
    for path in (os.path.join(models, name), os.path.join(models, "tflite", name)):
        if os.path.isfile(path):
            return path
    sys.exit(f"no {name} in {models} (or its tflite/ subfolder)")


def with_image_metadata(path, mean, std):
    """The .tflite file with the metadata the Tasks API reads: an RGB image input normalised
    as (value - mean) / std, and plain outputs."""
    metadata_writer, _, writer_utils = _metadata_writers()
    with open(path, "rb") as f:
        model = f.read()
    writer = metadata_writer.MetadataWriter.create(bytearray(model))
    writer.add_image_input(norm_mean=[mean], norm_std=[std])
    for _ in writer_utils.get_output_tensor_types(model):
        writer.add_feature_output()
    return bytes(writer.populate()[0])


def build_task(models, model, path):
    """The Pose Landmarker bundle from MediaPipe's .tflite files: the detector takes pixels
    in [-1, 1], the landmark model in [0, 1] (as the graphs of MediaPipe's legacy pose
    solution feed them)."""
    _, model_asset_bundle_utils, _ = _metadata_writers()
    model_asset_bundle_utils.create_model_asset_bundle({
        "pose_detector.tflite": with_image_metadata(
            find_tflite(models, "pose_detection.tflite"), 127.5, 127.5),
        "pose_landmarks_detector.tflite": with_image_metadata(
            find_tflite(models, f"pose_landmark_{model}.tflite"), 0.0, 255.0),
    }, path)


def r5(v):
    return round(float(v), 5)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("clip")
    ap.add_argument("--mode", choices=["image", "video"], required=True)
    ap.add_argument("--model", choices=["lite", "full", "heavy"], default="full")
    ap.add_argument("--num-poses", type=int, default=1)
    ap.add_argument("--task", help="a pose_landmarker_<model>.task bundle")
    ap.add_argument("--models", help="folder with pose_detection.tflite and "
                    "pose_landmark_<model>.tflite (to build the bundle)")
    ap.add_argument("--name", help="the clip's name in the header (default: its file name)")
    args = ap.parse_args()

    task_name = f"pose_landmarker_{args.model}.task"
    tmp = tempfile.TemporaryDirectory()
    if args.task:
        task = args.task
    elif args.models:
        task = os.path.join(tmp.name, task_name)
        build_task(args.models, args.model, task)
    else:
        sys.exit("give --task or --models")

    width, height, fps = probe(args.clip)
    video = args.mode == "video"
    options = vision.PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=task),
        running_mode=vision.RunningMode.VIDEO if video else vision.RunningMode.IMAGE,
        num_poses=args.num_poses,
    )
    out = sys.stdout
    header = {"clip": args.name or os.path.basename(args.clip), "width": width,
              "height": height, "fps": fps, "mode": args.mode, "task": task_name,
              "mediapipe": mp.__version__}
    out.write(json.dumps(header) + "\n")
    with vision.PoseLandmarker.create_from_options(options) as landmarker:
        for i, rgb in enumerate(frames(args.clip, width, height)):
            ts = round(i * 1000 / fps)
            image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))
            result = (landmarker.detect_for_video(image, ts) if video
                      else landmarker.detect(image))
            poses = [
                {"landmarks": [[r5(l.x), r5(l.y), r5(l.z), r5(l.visibility), r5(l.presence)]
                               for l in lms],
                 "world_landmarks": [[r5(l.x), r5(l.y), r5(l.z)] for l in world]}
                for lms, world in zip(result.pose_landmarks, result.pose_world_landmarks)
            ]
            out.write(json.dumps({"frame": i, "timestamp_ms": ts, "poses": poses}) + "\n")


if __name__ == "__main__":
    main()
