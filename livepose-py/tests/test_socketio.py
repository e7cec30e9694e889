"""Socket.IO at /socket.io/ (livepose-ws's socketio.rs) with a real client, python-socketio's,
against livepose.serve_background(socketio=True) with the real models: JSON+base64 and
binary frames over WebSocket and long-polling, binary results, a renamed result event,
latest wins under a burst, cleanup after a client is killed, the token, and rooms.

`pytest -s` shows the figures the tests print (result counts, cleanup times)."""

from __future__ import annotations

import base64
import json
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import contextmanager
from typing import Any, Callable, Iterator

import pytest
import socketio

import livepose
from conftest import LAB, jpeg_frame
from livepose import codec

WIDTH, HEIGHT = 480, 640
# Waits for an event (the first inference of a stream loads its pipeline): a give-up time
# that fails the test with what did arrive, not a timing check.
WAIT = 60.0


def jpeg() -> bytes:
    """Frame 30 of the lab clip (one dancer), 480x640."""
    return jpeg_frame(LAB, 30, f"{WIDTH}:{HEIGHT}")


def data_url(image: bytes) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(image).decode()


def serve(models_dir, **options) -> livepose.Server:
    return livepose.serve_background(port=0, models_dir=models_dir, workers=1, socketio=True, **options)


@pytest.fixture(scope="module")
def server(models_dir) -> Iterator[livepose.Server]:
    """A server with the default options, shared by the tests that need nothing else."""
    with serve(models_dir) as running:
        yield running


def stream_ids(server: livepose.Server) -> list[str]:
    with urllib.request.urlopen(f"http://{server.address}/streams", timeout=30) as response:
        return [s["id"] for s in json.loads(response.read())["streams"]]


class Events:
    """Every event a client receives, in order, with a condition to wait on."""

    def __init__(self, sio: socketio.Client) -> None:
        self.log: list[tuple[str, Any]] = []
        self.changed = threading.Condition()

        @sio.on("*")
        def any_event(event: str, *args: Any) -> None:
            with self.changed:
                self.log.append((event, args[0] if len(args) == 1 else args))
                self.changed.notify_all()

    def of(self, name: str) -> list[Any]:
        with self.changed:
            return [data for event, data in self.log if event == name]

    def summary(self) -> str:
        with self.changed:
            counts: dict[str, int] = {}
            for event, _ in self.log:
                counts[event] = counts.get(event, 0) + 1
            errors = [data for event, data in self.log if event == "error"]
        return f"events received: {counts or 'none'}; error events: {errors or 'none'}"

    def wait_for(self, name: str, where: Callable[[Any], bool] = lambda _: True,
                 timeout: float = WAIT, what: str = "") -> Any:
        """The first `name` event whose data satisfies `where`, waiting for it."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                for event, data in self.log:
                    if event == name and where(data):
                        return data
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.changed.wait(left)
        raise AssertionError(f"no `{name}` event{' ' + what if what else ''} within {timeout:.0f} s; "
                             + self.summary())


@contextmanager
def connected(server: livepose.Server, transport: str = "websocket", auth: dict | None = None,
              query: str = "") -> Iterator[tuple[socketio.Client, Events]]:
    """A python-socketio client connected to the server with one transport."""
    sio = socketio.Client(reconnection=False)
    events = Events(sio)
    sio.connect(f"http://{server.address}{query}", auth=auth, transports=[transport], wait_timeout=10)
    try:
        yield sio, events
    finally:
        sio.disconnect()


def check_pose(result: Any, sequence: int | None = None) -> None:
    """A JSON result of the one-dancer frame: 17 keypoints in pixels inside the frame."""
    assert isinstance(result, dict), f"a JSON result object, got {type(result).__name__}: {result!r:.200}"
    for key in ("body", "hands", "pose_3d_angles", "pose_3d_coords", "timings", "sequence",
                "timestamp", "frames_dropped", "poses", "mode"):
        assert key in result, f"result has no `{key}`: {sorted(result)}"
    assert result["poses"] == 1
    body = result["body"]
    assert len(body) == 17
    assert len({k["name"] for k in body}) == 17
    for k in body:
        assert set(k) >= {"name", "x", "y", "confidence", "visible"}, k
        assert 0 <= k["x"] <= WIDTH and 0 <= k["y"] <= HEIGHT, f"keypoint outside {WIDTH}x{HEIGHT}: {k}"
    # pixels, not 0..1
    assert max(k["x"] for k in body) > 2 and max(k["y"] for k in body) > 2, body
    if sequence is not None:
        assert result["sequence"] == sequence


def with_sequence(sequence: int) -> Callable[[Any], bool]:
    return lambda r: isinstance(r, dict) and r.get("sequence") == sequence


# a. JSON+base64 frames over both transports


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_json_frames_get_pose_data(server, transport):
    with connected(server, transport) as (sio, events):
        welcome = events.wait_for("welcome")
        print(f"\n{transport}: welcome {welcome}")
        assert welcome["type"] == "welcome"
        assert welcome["limits"]["max_fps"] > 0
        assert welcome["stream_id"] in stream_ids(server)
        image = data_url(jpeg())
        for sequence in (1, 2, 3):
            sio.emit("frame", {"image": image, "timestamp": 1000.0 * sequence, "sequence": sequence})
            result = events.wait_for("pose_data", with_sequence(sequence), what=f"with sequence {sequence}")
            check_pose(result, sequence)
        print(f"{transport}: result timings {result['timings']}, mode {result['mode']}")
        assert events.of("error") == []


# b. binary frames, binary results, the result event's name


def test_binary_attachments_and_bytes_alone(server):
    with connected(server) as (sio, events):
        events.wait_for("welcome")
        sio.emit("frame", {"image": jpeg(), "sequence": 5})
        check_pose(events.wait_for("pose_data", with_sequence(5), what="with sequence 5 (image as an attachment)"), 5)
        sio.emit("frame", jpeg())
        events.wait_for("pose_data", lambda _: len(events.of("pose_data")) >= 2,
                        what="for a JPEG sent alone as bytes")
        check_pose(events.of("pose_data")[1])
        sio.emit("frame", codec.encode_frame(jpeg(), sequence=9))
        result = events.wait_for("pose_data", with_sequence(9), what="with sequence 9 (a protocol v1 frame)")
        check_pose(result, 9)
        assert events.of("error") == []


def test_binary_results_decode_with_the_codec(server):
    with connected(server, auth={"results": "binary"}) as (sio, events):
        events.wait_for("welcome")
        sio.emit("frame", {"image": data_url(jpeg()), "sequence": 7})
        message = events.wait_for("pose_data")
        assert isinstance(message, bytes), f"binary results: bytes, got {type(message).__name__}: {message!r:.200}"
        assert message.startswith(b"LPOS")
        result = codec.decode_result(message)
        print(f"\nbinary result: {len(message)} bytes, sequence {result.sequence}, timings {result.timings}")
        assert result.sequence == 7
        assert len(result.poses) == 1
        landmarks = result.poses[0].landmarks
        assert landmarks.shape[1] == 5 and 0 < landmarks[:, 0].max() <= WIDTH and 0 < landmarks[:, 1].max() <= HEIGHT


def test_the_result_event_can_be_renamed(server):
    with connected(server, auth={"result_event": "pose_result"}) as (sio, events):
        events.wait_for("welcome")
        sio.emit("frame", {"image": data_url(jpeg()), "sequence": 11})
        check_pose(events.wait_for("pose_result", what="(result_event: pose_result)"), 11)
        assert events.of("pose_data") == []


def test_handshake_options_in_the_query_string(server):
    with connected(server, query="?result_event=pose_result&results=binary") as (sio, events):
        events.wait_for("welcome")
        sio.emit("frame", {"image": jpeg(), "sequence": 12})
        message = events.wait_for("pose_result", what="(result_event and results in the query)")
        assert isinstance(message, bytes) and codec.decode_result(message).sequence == 12


# c. latest wins


def test_a_burst_gets_fewer_results_and_the_newest_frame(server):
    burst, rounds = 30, 3
    with connected(server) as (sio, events):
        events.wait_for("welcome")
        image = data_url(jpeg())
        seen: list[list[int]] = []
        for round_ in range(rounds):
            first, newest = round_ * burst + 1, (round_ + 1) * burst
            for sequence in range(first, newest + 1):
                sio.emit("frame", {"image": image, "sequence": sequence})
            # Results have stopped once `stats` (running totals) counts every frame sent as
            # a result or a dropped frame; then all those results have arrived.
            stats = events.wait_for("stats", lambda s: s["dropped"] + s["results"] >= newest,
                                    what=f"counting all {newest} frames as results or dropped")
            events.wait_for("pose_data", lambda _: len(events.of("pose_data")) >= stats["results"],
                            what=f"for each of the {stats['results']} results `stats` counts")
            seen.append([r["sequence"] for r in events.of("pose_data") if first <= r["sequence"] <= newest])
        print(f"\n{rounds} bursts of {burst}: results for sequences {seen}; "
              f"stats dropped {stats['dropped']}, results {stats['results']}")
        for round_, sequences in enumerate(seen):
            newest = (round_ + 1) * burst
            assert 1 <= len(sequences) < burst, sequences
            assert sequences[-1] == newest, (
                f"burst {round_ + 1}: the newest frame (sequence {newest}) got no result, "
                f"latest wins should keep it: results for sequences {seen}; stats {stats}")
            assert sequences == sorted(sequences), f"results out of order: {seen}"
        assert events.of("error") == []


# d. cleanup after a client dies

CHILD = """
import base64, sys, threading, time
import socketio

url, transport, path = sys.argv[1:]
with open(path, "rb") as f:
    frame = {"image": "data:image/jpeg;base64," + base64.b64encode(f.read()).decode()}
sio = socketio.Client(reconnection=False)
welcome, result = {}, threading.Event()
sio.on("welcome", lambda data: welcome.update(data))
sio.on("pose_data", lambda data: result.set())
sio.connect(url, transports=[transport], wait_timeout=10)
sio.emit("frame", frame)
if not result.wait(60):
    sys.exit("no result")
print("ready", welcome.get("stream_id"), flush=True)
while True:
    sio.emit("frame", frame)
    time.sleep(0.05)
"""


def kill_a_streaming_client(server: livepose.Server, transport: str, tmp_path) -> tuple[str, float]:
    """Runs a client that streams frames in a subprocess, SIGKILLs it once it has results,
    and polls /streams until its stream is gone: its id and the seconds that took."""
    (tmp_path / "frame.jpg").write_bytes(jpeg())
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, f"http://{server.address}", transport, str(tmp_path / "frame.jpg")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in child.stdout], daemon=True).start()
    try:
        try:
            line = lines.get(timeout=WAIT)
        except queue.Empty:
            line = ""
        if not line.startswith("ready"):
            child.kill()
            raise AssertionError(f"the client never got ready: {line!r}, stderr {child.stderr.read()[-2000:]}")
        stream = line.split()[1]
        assert stream in stream_ids(server), f"{stream} not in /streams while the client streams"
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        killed = time.monotonic()
        while stream in stream_ids(server):
            assert time.monotonic() - killed < WAIT, f"{stream} still in /streams {WAIT:.0f} s after the kill"
            time.sleep(0.01)
        return stream, time.monotonic() - killed
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(timeout=30)


def test_a_killed_websocket_client_is_gone_at_once(server, tmp_path):
    stream, seconds = kill_a_streaming_client(server, "websocket", tmp_path)
    print(f"\nwebsocket: {stream} left /streams {seconds * 1000:.0f} ms after SIGKILL")
    assert seconds < 1.0


def test_a_killed_polling_client_is_gone_after_the_heartbeat(models_dir, tmp_path):
    with serve(models_dir, heartbeat_secs=1) as server:
        stream, seconds = kill_a_streaming_client(server, "polling", tmp_path)
    print(f"\npolling (heartbeat 1 s): {stream} left /streams {seconds:.2f} s after SIGKILL")


# e. the token


def test_the_token_is_required(models_dir):
    with serve(models_dir, token="secret") as server:
        for auth in (None, {"token": "wrong"}):
            sio = socketio.Client(reconnection=False)
            reasons: list[Any] = []
            sio.on("connect_error", lambda data: reasons.append(data))
            with pytest.raises(socketio.exceptions.ConnectionError) as refused:
                sio.connect(f"http://{server.address}", auth=auth, transports=["websocket"], wait_timeout=10)
            print(f"\nauth {auth}: ConnectionError {refused.value!r}; connect_error {reasons}")
            # python-socketio's ConnectionError says "One or more namespaces failed to
            # connect: /"; the server's reason comes with the `connect_error` event.
            said = str(refused.value) + " " + json.dumps(reasons)
            assert "token is required" in said, said
        with connected(server, auth={"token": "secret"}) as (_, events):
            assert events.wait_for("welcome")["type"] == "welcome"
        with connected(server, "polling", query="?token=secret") as (_, events):
            assert events.wait_for("welcome")["type"] == "welcome"


# f. rooms


def test_rooms_camera_viewer_and_a_second_camera(models_dir):
    with serve(models_dir, room_token="cam") as server:
        with connected(server) as (camera, cam_events), connected(server) as (viewer, view_events):
            cam_events.wait_for("welcome")
            view_events.wait_for("welcome")
            camera.emit("join", {"room": "r", "role": "camera", "token": "cam"})
            viewer.emit("join", {"room": "r", "role": "viewer"})
            image = data_url(jpeg())
            # Frames until the viewer has a result: a join is not answered, so the first
            # frames may come before it counts.
            deadline = time.monotonic() + WAIT
            sequence = 0
            while not view_events.of("pose_data") and time.monotonic() < deadline:
                sequence += 1
                camera.emit("frame", {"image": image, "sequence": sequence})
                time.sleep(0.1)
            check_pose(view_events.wait_for("pose_data", timeout=1, what="for the viewer"))
            print(f"\nrooms: viewer got {len(view_events.of('pose_data'))} results of the camera's {sequence} frames")
            assert cam_events.of("error") == [] and view_events.of("error") == []

            with connected(server) as (second, second_events):
                second.emit("join", {"room": "r", "role": "camera", "token": "wrong"})
                error = second_events.wait_for("error", what="for a wrong room token")
                assert error["code"] == "unauthorized", error
                second.emit("join", {"room": "r", "role": "camera", "token": "cam"})
                error = second_events.wait_for("error", lambda e: e.get("code") != "unauthorized",
                                               what="for a second camera")
                print(f"rooms: second camera's error {error}")
                assert error["type"] == "error" and error["code"] == "camera_taken", error
