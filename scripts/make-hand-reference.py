#!/usr/bin/env python3
"""MediaPipe's own Hand Landmarker output on a clip, every `--step`th frame: the hand
reference under livepose-core/tests/data/hand-reference/ (format in that folder's README).

Needs mediapipe (1.2.2 made the references), numpy and ffmpeg. The Tasks API takes a
`.task` bundle: a zip of `hand_detector.tflite` (the palm detector) and
`hand_landmarks_detector.tflite`, each with TFLite metadata that says how to normalise the
input image. `--task` takes one; without it, `--models DIR` builds it from MediaPipe's
`.tflite` files (`palm_detection_<model>.tflite` and `hand_landmark_<model>.tflite`, as
`livepose models fetch DIR` or `scripts/fetch-models.sh` leave them; a `tflite/` subfolder
is looked in too), adding that metadata with MediaPipe's own metadata writer (the helpers
of `scripts/make-reference.py`).

    python3 -m venv /tmp/mpvenv && /tmp/mpvenv/bin/pip install mediapipe==1.2.2
    /tmp/mpvenv/bin/python scripts/make-hand-reference.py --models ~/.cache/livepose/models \\
        --pose livepose-core/tests/data/reference/CLIP.full.image.jsonl --step 2 CLIP.mp4 \\
        | gzip -n -9 > CLIP.hands.jsonl.gz

The hands on these clips are small (60-100 px in 1080x1920 frames): on the whole frame,
letterboxed to the palm detector's 192x192 input, they are under 10 px and MediaPipe finds
few (`--whole-frame` shows it). So, as Holistic does, the pose says where to look, and
MediaPipe's Hand Landmarker runs on a square crop around each pose wrist: `--pose` takes
MediaPipe's own pose reference of the same clip
(`livepose-core/tests/data/reference/<clip>.full.image.jsonl`); for each pose and wrist
with visibility >= 0.1 the crop is centred on the wrist, its side `--crop` (0.3) times the
diagonal of the pose landmarks' box, cut from the frame at whole pixels (zero outside it,
no resampling). Inside the crop MediaPipe does the rest on its own, in image mode (no
tracking): the palm detector finds the palm, the hand landmark model runs on the region
MediaPipe derives from it. Of the hands found in a crop the one whose wrist is nearest the
pose wrist is kept; when both wrists of a pose keep the same hand (mean landmark distance
under 0.2 of its box diagonal) it stays with the nearer wrist. Each hand also gets the
landmarks MediaPipe's tracking gives from it (`Tracker`).

Frames are decoded by ffmpeg to RGB at the clip's own size, in order, from frame 0, exactly
as for the pose reference. Coordinates are rounded to 4 decimals (under 0.2 px on these
clips).
"""

import argparse
import importlib.util
import json
import os
import sys
import tempfile

import mediapipe as mp
import numpy as np
from mediapipe.tasks.python import vision
from mediapipe.tasks.python.core.base_options import BaseOptions

_HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location(
    "make_reference", os.path.join(_HERE, "make-reference.py"))
pose_ref = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(pose_ref)


def build_task(models, model, path):
    """The Hand Landmarker bundle from MediaPipe's .tflite files: both models take pixels in
    [0, 1] (as the graphs of MediaPipe's legacy hands solution feed them)."""
    _, model_asset_bundle_utils, _ = pose_ref._metadata_writers()
    model_asset_bundle_utils.create_model_asset_bundle({
        "hand_detector.tflite": pose_ref.with_image_metadata(
            pose_ref.find_tflite(models, f"palm_detection_{model}.tflite"), 0.0, 255.0),
        "hand_landmarks_detector.tflite": pose_ref.with_image_metadata(
            pose_ref.find_tflite(models, f"hand_landmark_{model}.tflite"), 0.0, 255.0),
    }, path)


def load_poses(path):
    """Frame index -> list of poses (33 x [x, y, z, visibility, presence], normalised)."""
    poses = {}
    with open(path) as f:
        next(f)
        for line in f:
            d = json.loads(line)
            poses[d["frame"]] = [p["landmarks"] for p in d["poses"]]
    return poses


def crop(rgb, cx, cy, side):
    """The square of `side` pixels whose top left corner is the whole pixel nearest
    (cx - side / 2, cy - side / 2), zero outside the frame; and that corner."""
    h, w, _ = rgb.shape
    x0, y0 = round(cx - side / 2), round(cy - side / 2)
    out = np.zeros((side, side, 3), np.uint8)
    sx0, sy0, sx1, sy1 = max(x0, 0), max(y0, 0), min(x0 + side, w), min(y0 + side, h)
    if sx0 < sx1 and sy0 < sy1:
        out[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = rgb[sy0:sy1, sx0:sx1]
    return out, x0, y0


def diagonal(points):
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return ((max(xs) - min(xs)) ** 2 + (max(ys) - min(ys)) ** 2) ** 0.5


def mean_distance(a, b):
    return sum(((p[0] - q[0]) ** 2 + (p[1] - q[1]) ** 2) ** 0.5 for p, q in zip(a, b)) / len(a)


class Tracker:
    """MediaPipe's tracking step on one crop: its Hand Landmarker in video mode (one hand)
    sees a blank image (it forgets any hand), the crop (palm detector, then landmarks), and
    the crop again, where it runs the landmark model on the region it derives from the first
    landmarks (`HandLandmarksToRect`, scaled 2, shifted up 0.1, squared), without the palm
    detector. The second landmarks are what the landmark model gives on a region that is a
    known function of the first: livepose can run its own model on that same region."""

    def __init__(self, task):
        self.landmarker = vision.HandLandmarker.create_from_options(vision.HandLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=task),
            running_mode=vision.RunningMode.VIDEO, num_hands=1))
        self.ts = 0

    def _detect(self, data):
        self.ts += 1
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=data)
        return self.landmarker.detect_for_video(image, self.ts).hand_landmarks

    def track(self, image, first):
        """The landmarks tracked from `first` (the crop's image-mode landmarks, normalised
        to the crop), or None when video mode's first landmarks differ from them (its palm
        detector, keeping one hand, kept another) or it loses the hand."""
        self._detect(np.zeros_like(image))
        found = self._detect(image)
        if len(found) != 1 or mean_distance([(l.x, l.y) for l in found[0]], first) > 1e-4:
            return None
        tracked = self._detect(image)
        return tracked[0] if tracked else None


def hands_of_pose(landmarker, tracker, rgb, pose, crop_scale):
    """MediaPipe's hands at the pose's left (15) and right (16) wrists, in pixels, each with
    the landmarks `tracker` gives from it (None without a tracker or when it gives none)."""
    h, w, _ = rgb.shape
    px = [(l[0] * w, l[1] * h) for l in pose]
    side = max(32, round(crop_scale * diagonal(px)))
    found = []
    for pose_side, wrist in (("left", 15), ("right", 16)):
        if pose[wrist][3] < 0.1:
            continue
        image, x0, y0 = crop(rgb, *px[wrist], side)
        result = landmarker.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=image))
        best = None
        for lms, sides in zip(result.hand_landmarks, result.handedness):
            points = [(x0 + l.x * side, y0 + l.y * side) for l in lms]
            d = ((points[0][0] - px[wrist][0]) ** 2 + (points[0][1] - px[wrist][1]) ** 2) ** 0.5
            if best is None or d < best[0]:
                best = (d, {"pose_side": pose_side, "handedness": sides[0].category_name,
                            "score": sides[0].score, "points": points,
                            "crop": [(l.x, l.y) for l in lms]})
        if best and tracker:
            tracked = tracker.track(image, best[1]["crop"])
            if tracked:
                best[1]["tracked"] = [(x0 + l.x * side, y0 + l.y * side) for l in tracked]
        if best:
            found.append(best)
    if len(found) == 2:
        (da, a), (db, b) = found
        if mean_distance(a["points"], b["points"]) < 0.2 * diagonal(a["points"]):
            found = [found[0] if da <= db else found[1]]
    return [hand for _, hand in found]


def r4(v):
    return round(float(v), 4)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("clip")
    ap.add_argument("--model", choices=["lite", "full"], default="full")
    ap.add_argument("--pose", required=True,
                    help="MediaPipe's pose reference of the clip (<clip>.full.image.jsonl)")
    ap.add_argument("--crop", type=float, default=0.3,
                    help="crop side / diagonal of the pose landmarks' box")
    ap.add_argument("--num-hands", type=int, default=2, help="per crop")
    ap.add_argument("--whole-frame", action="store_true",
                    help="run on the whole frame instead (no crops, no tracked landmarks): "
                    "shows that MediaPipe finds (almost) no hands on these clips that way")
    ap.add_argument("--no-tracked", action="store_true",
                    help="leave out the tracked landmarks (see Tracker)")
    ap.add_argument("--step", type=int, default=1, help="keep every STEPth frame")
    ap.add_argument("--limit", type=int, help="stop before this frame index")
    ap.add_argument("--task", help="a hand_landmarker.task bundle")
    ap.add_argument("--models", help="folder with palm_detection_<model>.tflite and "
                    "hand_landmark_<model>.tflite (to build the bundle)")
    ap.add_argument("--name", help="the clip's name in the header (default: its file name)")
    args = ap.parse_args()

    task_name = f"hand_landmarker_{args.model}.task"
    tmp = tempfile.TemporaryDirectory()
    if args.task:
        task = args.task
    elif args.models:
        task = os.path.join(tmp.name, task_name)
        build_task(args.models, args.model, task)
    else:
        sys.exit("give --task or --models")

    width, height, fps = pose_ref.probe(args.clip)
    poses = load_poses(args.pose)
    options = vision.HandLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=task),
        running_mode=vision.RunningMode.IMAGE,
        num_hands=args.num_hands,
    )
    out = sys.stdout
    header = {"clip": args.name or os.path.basename(args.clip), "width": width,
              "height": height, "fps": fps, "mode": "image", "task": task_name,
              "pose": os.path.basename(args.pose), "crop": args.crop,
              "num_hands": args.num_hands, "step": args.step, "mediapipe": mp.__version__}
    out.write(json.dumps(header) + "\n")
    tracker = None if args.no_tracked or args.whole_frame else Tracker(task)
    with vision.HandLandmarker.create_from_options(options) as landmarker:
        for i, rgb in enumerate(pose_ref.frames(args.clip, width, height)):
            if args.limit is not None and i >= args.limit:
                break
            if i % args.step:
                continue
            norm = lambda points: [[r4(x / width), r4(y / height)] for x, y in points]
            hands = []
            if args.whole_frame:
                image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))
                result = landmarker.detect(image)
                for lms, sides in zip(result.hand_landmarks, result.handedness):
                    hands.append({"handedness": sides[0].category_name,
                                  "score": r4(sides[0].score),
                                  "landmarks": [[r4(l.x), r4(l.y)] for l in lms]})
                poses_here = []
            else:
                poses_here = poses.get(i, [])
            for p, pose in enumerate(poses_here):
                for hand in hands_of_pose(landmarker, tracker, rgb, pose, args.crop):
                    hands.append({"pose": p, "pose_side": hand["pose_side"],
                                  "handedness": hand["handedness"], "score": r4(hand["score"]),
                                  "landmarks": norm(hand["points"])})
                    if "tracked" in hand:
                        hands[-1]["tracked"] = norm(hand["tracked"])
            out.write(json.dumps({"frame": i, "hands": hands}, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
