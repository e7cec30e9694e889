"""livepose.codec against the golden vectors of livepose-core/tests/vectors (docs/protocol.md section 9):
the same bytes, values and error codes as the Rust and JavaScript codecs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import livepose
from livepose import codec

VECTORS = Path(__file__).resolve().parents[2] / "livepose-core" / "tests" / "vectors"
NAMES = sorted(p.stem for p in VECTORS.glob("*.json"))
STAGES = ["decode", "detect", "crop", "landmarks", "hands", "post", "total"]
HANDEDNESS = {0: "unknown", 1: "left", 2: "right"}


def load(name: str) -> tuple[dict, bytes]:
    spec = json.loads((VECTORS / f"{name}.json").read_text())
    return spec, bytes.fromhex("".join((VECTORS / f"{name}.hex").read_text().split()))


def test_there_are_vectors_of_every_kind():
    kinds = {load(n)[0]["kind"] for n in NAMES}
    assert kinds == {"frame", "result", "invalid"} and len(NAMES) >= 20


def check_result(decoded, spec: dict) -> None:
    for field in ("sequence", "capture_ts_us", "server_recv_us", "server_start_us",
                  "server_end_us", "frames_dropped", "flags"):
        assert getattr(decoded, field) == spec[field], field
    assert [decoded.timings[s] for s in STAGES] == spec["timings_us"]
    assert len(decoded.poses) == len(spec["poses"])
    for pose, want in zip(decoded.poses, spec["poses"]):
        assert pose.id == want["id"]
        assert pose.score == np.float32(want["score"])
        assert pose.bbox == tuple(np.float32(v) for v in want["bbox"])
        np.testing.assert_array_equal(pose.landmarks, np.array(want["landmarks"], dtype=np.float32).reshape(-1, 5))
        np.testing.assert_array_equal(pose.world_landmarks, np.array(want["world_landmarks"], dtype=np.float32).reshape(-1, 3))
        assert sorted(pose.angles.values()) == sorted(np.float32(d) for j, d in want["angles"] if j <= 10)
        assert len(pose.hands) == len(want["hands"])
        for hand, h in zip(pose.hands, want["hands"]):
            assert hand.handedness == HANDEDNESS.get(h["handedness"], "unknown")
            assert hand.score == np.float32(h["score"])
            np.testing.assert_array_equal(hand.landmarks, np.array(h["landmarks"], dtype=np.float32).reshape(-1, 3))
            np.testing.assert_array_equal(hand.world_landmarks, np.array(h["world_landmarks"], dtype=np.float32).reshape(-1, 3))


@pytest.mark.parametrize("name", NAMES)
def test_vector(name):
    spec, message = load(name)
    if spec["kind"] == "frame":
        frame = codec.decode_frame(message)
        for field in ("sequence", "capture_ts_us", "format", "width", "height", "flags"):
            assert getattr(frame, field) == spec[field], field
        assert frame.payload == bytes.fromhex(spec["payload_hex"])
        if spec.get("encoder", True):
            encoded = codec.encode_frame(
                bytes.fromhex(spec["payload_hex"]), sequence=spec["sequence"],
                capture_ts_us=spec["capture_ts_us"], format=spec["format"],
                width=spec["width"], height=spec["height"], flags=spec["flags"])
            assert encoded == message
    elif spec["kind"] == "result":
        check_result(codec.decode_result(message), spec)
        if spec.get("encoder", True):
            assert codec.encode_result(spec) == message
    else:
        decode = codec.decode_frame if spec["decoder"] == "frame" else codec.decode_result
        with pytest.raises(livepose.ProtocolError) as caught:
            decode(message)
        assert caught.value.code == spec["error"]


def test_h264_vectors_carry_keyframe_flags_that_match_their_nal_units():
    """An H.264 frame's payload is one access unit (Annex B): the KEYFRAME flag (bit 1) is set
    exactly when it holds an IDR slice with its SPS and PPS."""
    h264 = [n for n in NAMES if load(n)[0].get("format") == "h264"]
    assert len(h264) >= 2
    for name in h264:
        spec, message = load(name)
        frame = codec.decode_frame(message)
        assert frame.format == "h264" and (frame.width, frame.height) == (0, 0)
        types = [frame.payload[i + 3] & 0x1F for i in range(len(frame.payload) - 3)
                 if frame.payload[i:i + 3] == b"\x00\x00\x01"]
        keyframe = bool(frame.flags & 2)
        assert keyframe == ({5, 7, 8} <= set(types)), (name, types)
        assert (5 in types) if keyframe else (1 in types)


CONTROL = VECTORS / "control"


@pytest.mark.parametrize("name", sorted(p.stem for p in CONTROL.glob("*.json")))
def test_control_vector(name):
    """Control messages (JSON text): `text` parses to `message`, a keyframe_request names
    one of the protocol's reasons."""
    spec = json.loads((CONTROL / f"{name}.json").read_text())
    assert spec["kind"] == "control" and spec["direction"] in ("server", "client")
    message = json.loads(spec["text"])
    assert message == spec["message"]
    if message["type"] == "keyframe_request":
        assert message["reason"] in ("start", "decode_error", "behind", "join")


def test_pipeline_results_encode_and_decode(models_dir):
    from conftest import LAB, jpeg_frame

    result = livepose.Pipeline(models_dir=models_dir).process(jpeg_frame(LAB, 30, "480:640"))
    message = result.to_bytes(sequence=9, capture_ts_us=-3)
    assert codec.encode_result(result, sequence=9, capture_ts_us=-3) == message
    decoded = codec.decode_result(message)
    assert (decoded.sequence, decoded.capture_ts_us) == (9, -3)
    np.testing.assert_array_equal(decoded.poses[0].landmarks, result.landmarks[0])
    assert decoded.timings == result.timings


def test_bad_arguments():
    with pytest.raises(livepose.ConfigError, match="unknown image format"):
        codec.encode_frame(b"x", format="gif")
    # H.264 frames are encoded like JPEG ones: no dimensions on the wire.
    frame = codec.decode_frame(codec.encode_frame(b"\x00\x00\x00\x01\x41\x9a", format="h264", flags=0))
    assert (frame.format, frame.width, frame.height) == ("h264", 0, 0)
    with pytest.raises(livepose.ProtocolError) as caught:
        codec.encode_frame(b"x", format="rgb8", width=2, height=2)
    assert caught.value.code == "inconsistent"
    with pytest.raises(livepose.ConfigError, match="not a result description"):
        codec.encode_result({"poses": [{"score": "high"}]})
