"""livepose.serve_background and livepose.serve: the Rust server from Python, on real
sockets with the real models."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

import livepose
from conftest import LAB, jpeg_frame


def get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.status, response.read()


def test_background_server_answers_and_stops(models_dir):
    with livepose.serve_background(port=0, models_dir=models_dir, workers=1) as server:
        assert server.running and server.port > 0
        assert server.url == f"ws://127.0.0.1:{server.port}/ws"
        base = f"http://{server.address}"
        assert json.loads(get(f"{base}/health")[1]) == {"status": "ok"}
        request = urllib.request.Request(f"{base}/estimate_pose", data=jpeg_frame(LAB, 30, "480:640"), method="POST")
        with urllib.request.urlopen(request, timeout=60) as response:
            result = json.loads(response.read())
        assert result["poses"] == 1 and len(result["body"]) == 17
        assert b"<canvas" in get(f"{base}/")[1]
    assert not server.running
    with pytest.raises(urllib.error.URLError):
        get(f"{base}/health")
    server.stop()  # again: nothing happens


def test_a_taken_port_is_a_server_error(models_dir):
    with livepose.serve_background(port=0, models_dir=models_dir, workers=1) as server:
        with pytest.raises(livepose.ServerError, match="cannot listen"):
            livepose.serve_background(port=server.port, models_dir=models_dir)
    with pytest.raises(livepose.ConfigError, match="not an IP address"):
        livepose.serve_background(host="localhost:1", models_dir=models_dir)


def test_blocking_serve_stops_on_ctrl_c(models_dir):
    code = (
        "import livepose, sys\n"
        "try:\n"
        f"    livepose.serve(port=0, models_dir={str(models_dir)!r}, workers=1)\n"
        "except KeyboardInterrupt:\n"
        "    print('stopped', flush=True)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "RUST_LOG": "warn"})
    time.sleep(3)
    assert child.poll() is None, "serve() returned on its own"
    child.send_signal(signal.SIGINT)
    out, _ = child.communicate(timeout=30)
    assert "stopped" in out
