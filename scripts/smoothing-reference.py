#!/usr/bin/env python3
"""MediaPipe's own smoothed output for the smoothing bench (benches/smoothing.rs): its Pose
Landmarker in VIDEO mode (tracking and One Euro smoothing, `num_poses=1`) on

- the still clips: one frame of a bundled clip held for 4 s at 30 fps with temporal camera
  noise, made by scripts/still-noise.sh (the bench makes the same clip to measure jitter);
- the dance clips, whole (the bench measures lag on them), in VIDEO mode, again in VIDEO mode
  with `num_poses=2` (`video_unsmoothed`: MediaPipe smooths only one pose, so this is its
  own unsmoothed tracking; the bench picks the pose nearest the smoothed one), and in IMAGE
  mode (no tracking, no smoothing).

Writes `<name>.<model>.<mode>.jsonl.gz` into OUT (default benches/data/smoothing/): the
format of livepose-core/tests/data/reference/README.md without world landmarks, the header
line also saying how the still clip was made (`still`: source clip, frame, size, seconds,
fps), so the bench remakes exactly the frames MediaPipe saw. Needs mediapipe (1.2.2 made
the committed files), numpy and ffmpeg; not run by CI:

    python3 -m venv /tmp/mpvenv && /tmp/mpvenv/bin/pip install mediapipe==1.2.2
    /tmp/mpvenv/bin/python scripts/smoothing-reference.py --models MODELS --media MEDIA

MODELS as for scripts/make-reference.py (MediaPipe's .tflite files: `livepose models fetch
MODELS`), MEDIA the clips (scripts/fetch-media.sh).
"""

import argparse
import gzip
import importlib.util
import json
import os
import subprocess
import sys
import tempfile

import mediapipe as mp
import numpy as np
from mediapipe.tasks.python import vision
from mediapipe.tasks.python.core.base_options import BaseOptions

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location(
    "make_reference", os.path.join(HERE, "make-reference.py"))
make_reference = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_reference)

# name -> (source clip, frame, size, seconds, fps): a person standing still in each.
STILLS = {
    "still_lab_dance": ("lab_dance_1080x1920_60fps.mp4", 50, "540x960", 4, 30),
    "still_outdoor": ("outdoor_two_people_1768x994_30fps.mp4", 170, "960x540", 4, 30),
}
DANCES = {
    "lab_dance": "lab_dance_1080x1920_60fps.mp4",
    "multi_two_dancers": "multi_two_dancers_1088x1920_60fps.mp4",
}


def r5(v):
    return round(float(v), 5)


def run(task, path, mode, header, out_path, num_poses=1):
    """MediaPipe on every frame of `path`, one line per frame into the gzip'd `out_path`."""
    width, height, fps = make_reference.probe(path)
    video = mode == "video"
    options = vision.PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=task),
        running_mode=vision.RunningMode.VIDEO if video else vision.RunningMode.IMAGE,
        num_poses=num_poses)
    header = dict(header, width=width, height=height, fps=fps, mode=mode,
                  num_poses=num_poses, mediapipe=mp.__version__)
    # mtime=0: the same output gives the same bytes.
    with open(out_path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz, \
            vision.PoseLandmarker.create_from_options(options) as landmarker:
        gz.write((json.dumps(header) + "\n").encode())
        for i, rgb in enumerate(make_reference.frames(path, width, height)):
            ts = round(i * 1000 / fps)
            image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))
            result = landmarker.detect_for_video(image, ts) if video else landmarker.detect(image)
            poses = [{"landmarks": [[r5(l.x), r5(l.y), r5(l.z), r5(l.visibility),
                                     r5(l.presence)] for l in lms]}
                     for lms in result.pose_landmarks]
            gz.write((json.dumps({"frame": i, "timestamp_ms": ts, "poses": poses}) + "\n")
                     .encode())
    print(f"wrote {out_path}", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", required=True)
    ap.add_argument("--media", required=True)
    ap.add_argument("--out", default=os.path.join(HERE, "..", "benches", "data", "smoothing"))
    ap.add_argument("--model", choices=["lite", "full"], action="append",
                    help="default: both")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for model in args.model or ["full", "lite"]:
            task = os.path.join(tmp, f"pose_landmarker_{model}.task")
            make_reference.build_task(args.models, model, task)
            base = {"task": os.path.basename(task)}
            for name, (clip, frame, size, seconds, fps) in STILLS.items():
                still = os.path.join(tmp, f"{name}.mkv")
                subprocess.run(["bash", os.path.join(HERE, "still-noise.sh"),
                                os.path.join(args.media, clip), str(frame), size,
                                str(seconds), str(fps), still], check=True)
                header = dict(base, clip=name, still={
                    "clip": clip, "frame": frame, "size": size, "seconds": seconds,
                    "fps": fps})
                run(task, still, "video", header,
                    os.path.join(args.out, f"{name}.{model}.video.jsonl.gz"))
            for name, clip in DANCES.items():
                for mode, file_mode, num_poses in [("video", "video", 1), ("image", "image", 1),
                                                   ("video", "video_unsmoothed", 2)]:
                    run(task, os.path.join(args.media, clip), mode, dict(base, clip=clip),
                        os.path.join(args.out, f"{name}.{model}.{file_mode}.jsonl.gz"),
                        num_poses)


if __name__ == "__main__":
    main()
