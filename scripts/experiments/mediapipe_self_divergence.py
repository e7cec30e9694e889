#!/usr/bin/env python3
"""How far MediaPipe's own video (tracking) mode moves from itself when one frame is made
one grey level brighter: the noise floor of any comparison with its video output.

Not part of the test suite. Runs MediaPipe's Pose Landmarker (video mode, full model,
`num_poses` 2) twice on a clip, the second time with frame CHANGED (default 10) one grey
level brighter, and compares the two runs from that frame on with the fidelity metric of
livepose-test-support/src/reference.rs: per pose of the unchanged run, the nearest pose of the other
(mean pixel distance over the 33 landmarks / diagonal of the pose's box), then median,
95th percentile, and mean world error. The same experiment on livepose is
`live_mode_tracking_amplifies_a_one_grey_level_change` in livepose-core/tests/pipeline_live.rs.

    /tmp/mpvenv/bin/python scripts/experiments/mediapipe_self_divergence.py \\
        --models MODELS CLIP.mp4 [CHANGED]

(mediapipe 1.2.2 in a virtual environment, MODELS as for scripts/make-reference.py.)
"""
import argparse
import importlib.util
import os
import tempfile

import mediapipe as mp
import numpy as np
from mediapipe.tasks.python import vision
from mediapipe.tasks.python.core.base_options import BaseOptions

_spec = importlib.util.spec_from_file_location(
    "make_reference", os.path.join(os.path.dirname(__file__), "..", "make-reference.py"))
make_reference = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_reference)


def run(clip, task, changed):
    """Per frame, per pose: (x, y normalised [33, 2], world [33, 3]); frame `changed` made
    one grey level brighter unless it is None."""
    width, height, fps = make_reference.probe(clip)
    options = vision.PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=task),
        running_mode=vision.RunningMode.VIDEO, num_poses=2)
    out = []
    with vision.PoseLandmarker.create_from_options(options) as landmarker:
        for i, rgb in enumerate(make_reference.frames(clip, width, height)):
            if i == changed:
                rgb = np.minimum(rgb.astype(np.int32) + 1, 255).astype(np.uint8)
            image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))
            result = landmarker.detect_for_video(image, round(i * 1000 / fps))
            out.append([(np.array([[l.x, l.y] for l in p]),
                         np.array([[l.x, l.y, l.z] for l in w]))
                        for p, w in zip(result.pose_landmarks, result.pose_world_landmarks)])
    return out, width, height


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("clip")
    ap.add_argument("changed", nargs="?", type=int, default=10)
    ap.add_argument("--models", required=True)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        task = os.path.join(tmp, "pose_landmarker_full.task")
        make_reference.build_task(args.models, "full", task)
        a, width, height = run(args.clip, task, None)
        b, _, _ = run(args.clip, task, args.changed)
    size = np.array([width, height])
    errors, world = [], []
    for poses_a, poses_b in list(zip(a, b))[args.changed:]:
        for xy, w in poses_a:
            px = xy * size
            diagonal = np.hypot(*(px.max(0) - px.min(0)))
            pairs = [(np.mean(np.hypot(*(xy_b * size - px).T)) / diagonal,
                      np.mean(np.linalg.norm(w_b - w, axis=1))) for xy_b, w_b in poses_b]
            if pairs:
                e, we = min(pairs)
                errors.append(e)
                world.append(we)

    def quantile(values, q):
        return sorted(values)[round((len(values) - 1) * q)]

    print(f"{os.path.basename(args.clip)}: MediaPipe video mode against itself with frame "
          f"{args.changed} one grey level brighter: median {quantile(errors, 0.5):.4f}, "
          f"95th percentile {quantile(errors, 0.95):.4f}, world {100 * np.mean(world):.2f} cm "
          f"({len(errors)} poses)")


if __name__ == "__main__":
    main()
