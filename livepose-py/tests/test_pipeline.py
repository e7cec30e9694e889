"""The pipeline from Python: bytes and arrays in, numpy arrays out, the GIL released,
results that match MediaPipe's own on a test clip."""

from __future__ import annotations

import json
import threading
import time

import numpy as np
import pytest

import livepose
from conftest import LAB, OUTDOOR, jpeg_frame, rgb_frame


@pytest.fixture(scope="module")
def pipeline(models_dir):
    return livepose.Pipeline(model="lite", models_dir=models_dir)


def test_jpeg_bytes_give_numpy_arrays(pipeline):
    result = pipeline.process(jpeg_frame(LAB, 30, "480:640"))
    assert len(result) == 1
    assert result.landmarks.shape == (1, 33, 5) and result.landmarks.dtype == np.float32
    assert result.world_landmarks.shape == (1, 33, 3)
    assert result.frame_size == (480, 640)
    assert set(result.timings) == {"decode", "detect", "crop", "landmarks", "hands", "post", "total"}
    assert result.timings["total"] >= result.timings["landmarks"] > 0
    assert 0.0 <= result.landmarks[0, :, :2].mean() <= 1.0
    assert set(result.angles) >= {"left_elbow", "right_knee", "trunk_lean"}
    assert all(0.0 <= v <= 180.0 for v in result.angles.values())
    pose = result.poses[0]
    assert np.array_equal(pose.landmarks, result.landmarks[0])
    assert pose.angles == result.angles
    x0, y0, x1, y1 = pose.bbox
    assert 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1


def test_an_rgb_array_gives_the_same_pose_as_its_jpeg(models_dir):
    image = livepose.Pipeline(mode="image", models_dir=models_dir)
    from_array = image.process(rgb_frame(LAB, 30, 480, 640)).landmarks
    from_jpeg = image.process(jpeg_frame(LAB, 30, "480:640")).landmarks
    # The JPEG's compression moves landmarks a little: close, not identical.
    assert np.abs(from_array[..., :2] - from_jpeg[..., :2]).mean() < 0.01


def test_non_contiguous_arrays_and_other_buffers_are_accepted(pipeline):
    frame = rgb_frame(LAB, 30, 480, 640)
    padded = np.zeros((640, 960, 3), dtype=np.uint8)
    padded[:, ::2] = frame
    assert len(pipeline.process(padded[:, ::2])) == 1
    assert len(pipeline.process(bytearray(jpeg_frame(LAB, 30, "480:640")))) == 1
    assert len(pipeline.process(memoryview(jpeg_frame(LAB, 30, "480:640")))) == 1


def test_to_dict_is_the_json_shape_of_the_backends_it_replaces(pipeline):
    result = pipeline.process(jpeg_frame(LAB, 30, "480:640"))
    d = result.to_dict()
    json.dumps(d)
    assert [k["name"] for k in d["body"]][:3] == ["nose", "left_eye", "right_eye"]
    assert len(d["body"]) == 17
    assert 0 < d["body"][0]["x"] < 480 and 0 < d["body"][0]["y"] < 640
    assert set(d["timings"]) >= {"image_decode", "pose_detection", "total_backend"}
    assert d["poses"] == 1


def test_timestamps_never_fail_and_say_when_they_were_adjusted(models_dir):
    p = livepose.Pipeline(models_dir=models_dir)
    frame = jpeg_frame(LAB, 30, "480:640")
    first = p.process(frame, timestamp_us=1_000_000)
    assert not first.timestamp_adjusted and first.timestamp_us == 1_000_000
    again = p.process(frame, timestamp_us=1_000_000)
    assert again.timestamp_adjusted and again.timestamp_us > 1_000_000
    back = p.process(frame, timestamp_us=5)
    assert back.timestamp_adjusted and back.timestamp_us > again.timestamp_us


def test_live_mode_tracks_instead_of_detecting(models_dir):
    p = livepose.Pipeline(models_dir=models_dir)
    ran = [p.process(jpeg_frame(LAB, i, "480:640"), timestamp_us=i * 16_667).detector_ran for i in range(4)]
    assert ran[0] and not any(ran[1:])
    p.reset()
    assert p.process(jpeg_frame(LAB, 4, "480:640"), timestamp_us=5 * 16_667).detector_ran


def test_hands_and_two_people(models_dir):
    p = livepose.Pipeline(model="full", hands=True, num_poses=2, mode="image", models_dir=models_dir)
    result = p.process(rgb_frame(OUTDOOR, 141, 1768, 994))  # MediaPipe finds both here too
    assert len(result) == 2
    assert len(set(result.ids)) == 2
    assert result.hands, "no hands found"
    for hand in result.hands:
        assert hand.handedness in ("left", "right")
        assert hand.landmarks.shape == (21, 3) and hand.world_landmarks.shape == (21, 3)
        assert hand.pose_id in result.ids


def test_process_releases_the_gil(models_dir):
    """Two threads, two pipelines: if process() held the GIL, one thread could not even
    note the time before calling it while the other is inside, so the calls could never
    overlap."""
    frame = jpeg_frame(OUTDOOR, 10)
    pipelines = [livepose.Pipeline(mode="image", models_dir=models_dir) for _ in range(2)]
    spans: list[list[tuple[float, float]]] = [[], []]

    def work(i: int) -> None:
        for _ in range(15):
            start = time.perf_counter()
            pipelines[i].process(frame)
            spans[i].append((start, time.perf_counter()))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    overlaps = sum(1 for a0, a1 in spans[0] for b0, b1 in spans[1] if a0 < b1 and b0 < a1)
    assert overlaps > 0


def _landmark_error(ours: np.ndarray, theirs: np.ndarray, width: int, height: int) -> float:
    """Mean pixel distance over the 33 landmarks divided by the diagonal of the reference
    pose's bounding box (the fidelity measure of livepose-core/tests/fidelity.rs)."""
    scale = np.array([width, height])
    a, b = ours[:, :2] * scale, theirs[:, :2] * scale
    diagonal = np.linalg.norm(b.max(axis=0) - b.min(axis=0))
    return float(np.linalg.norm(a - b, axis=1).mean() / diagonal)


def test_fidelity_smoke_against_mediapipe(reference_dir, models_dir):
    """Image mode, full model, 12 frames of the lab clip decoded by ffmpeg at full size (as
    the reference was made): the landmarks match MediaPipe's own output."""
    reference = (reference_dir / "lab_dance_1080x1920_60fps.full.image.jsonl").read_text().splitlines()
    header, frames = json.loads(reference[0]), [json.loads(line) for line in reference[1:]]
    width, height = header["width"], header["height"]
    p = livepose.Pipeline(model="full", mode="image", models_dir=models_dir)
    errors, world = [], []
    for index in range(0, 60, 5):
        want = frames[index]["poses"]
        got = p.process(rgb_frame(LAB, index, width, height))
        assert len(got) == len(want) == 1, f"frame {index}"
        errors.append(_landmark_error(got.landmarks[0], np.array(want[0]["landmarks"]), width, height))
        world.append(np.linalg.norm(got.world_landmarks[0] - np.array(want[0]["world_landmarks"]), axis=1).mean())
    assert np.median(errors) <= 0.02 and np.percentile(errors, 95) <= 0.05, errors
    assert np.mean(world) <= 0.03, world
