"""What livepose replaces, for the transports bench: a Flask-SocketIO server running
MediaPipe Pose per frame, written the way such apps are (docs/migrating.md, "Before"):
`frame` events with a base64 JPEG in, `pose_data` with keypoints in pixels out, one
MediaPipe Pose object (lite, livepose's default; it tracks across frames, as livepose
does) behind a lock, frames handled as they come (no latest-wins: every frame is
processed, however late).

    python baseline_flask_socketio.py PORT MODELS_DIR

Needs flask-socketio, simple-websocket, opencv-python-headless and mediapipe with its
`solutions` API (0.10.14); the bench starts it when LIVEPOSE_BASELINE_PYTHON names a Python
that has them. MediaPipe's wheel carries the full landmark model but downloads the lite
one on first use, which the bench machine cannot: it is copied from MODELS_DIR (the same
pose_landmark_lite.tflite, `livepose models fetch`) where MediaPipe would have put it.
"""

from __future__ import annotations

import base64
import os
import shutil
import sys
import threading
import time

import cv2
import mediapipe as mp
import numpy as np
from flask import Flask
from flask_socketio import SocketIO, emit

NAMES = ["nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder",
         "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
         "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle"]
# MediaPipe's indices of those 17 keypoints.
INDICES = [0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28]

app = Flask(__name__)
socketio = SocketIO(app, cors_allowed_origins="*", async_mode="threading",
                    max_http_buffer_size=16 << 20)
lock = threading.Lock()
pose = None


@socketio.on("frame")
def on_frame(data):
    started = time.perf_counter()
    jpeg = base64.b64decode(data["image"].split(",", 1)[1])
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    height, width = image.shape[:2]
    with lock:
        results = pose.process(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
    body = []
    if results.pose_landmarks:
        landmarks = results.pose_landmarks.landmark
        body = [{"name": name, "x": round(landmarks[i].x * width, 1), "y": round(landmarks[i].y * height, 1),
                 "confidence": round(landmarks[i].visibility * 100), "visible": landmarks[i].visibility > 0.3}
                for name, i in zip(NAMES, INDICES)]
    emit("pose_data", {"body": body, "sequence": data.get("sequence"), "timestamp": data.get("timestamp"),
                       "timings": {"total_backend": (time.perf_counter() - started) * 1000}})


if __name__ == "__main__":
    port = int(sys.argv[1])
    lite = os.path.join(os.path.dirname(mp.__file__), "modules", "pose_landmark", "pose_landmark_lite.tflite")
    if not os.path.exists(lite):
        shutil.copy(os.path.join(sys.argv[2], "pose_landmark_lite.tflite"), lite)
    pose = mp.solutions.pose.Pose(model_complexity=0)
    print(f"baseline: http://127.0.0.1:{port}", flush=True)
    socketio.run(app, host="127.0.0.1", port=port, allow_unsafe_werkzeug=True)
