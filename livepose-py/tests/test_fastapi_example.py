"""The FastAPI example (examples/fastapi_app.py) as its clients use it: JSON+base64 frames
in, the JSON shape they draw out; bad frames get an error and the socket keeps working."""

from __future__ import annotations

import base64
import importlib.util
import json
from pathlib import Path

import pytest

from fastapi.testclient import TestClient  # pip install 'livepose[examples]'

from conftest import LAB, jpeg_frame

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "fastapi_app.py"


@pytest.fixture
def client(models_dir, monkeypatch):
    monkeypatch.setenv("LIVEPOSE_MODELS", str(models_dir))
    spec = importlib.util.spec_from_file_location("fastapi_app", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return TestClient(module.app)


def test_own_routes_stay(client):
    assert client.get("/health").json()["status"] == "ok"


def test_json_base64_frames_get_json_poses(client):
    jpeg = jpeg_frame(LAB, 30, "480:640")
    data_url = "data:image/jpeg;base64," + base64.b64encode(jpeg).decode()
    with client.websocket_connect("/ws") as socket:
        socket.send_text(json.dumps({"image": data_url, "timestamp": 1.0}))
        reply = socket.receive_json()
        assert reply["poses"] == 1 and len(reply["body"]) == 17
        socket.send_text("{not json")
        assert "bad frame" in socket.receive_json()["error"]
        socket.send_bytes(b"not a jpeg")
        assert "image format" in socket.receive_json()["error"]
        socket.send_bytes(jpeg)
        assert socket.receive_json()["poses"] == 1
