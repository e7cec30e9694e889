"""A FastAPI app that keeps its own routes and uses livepose for pose estimation: a drop-in
for the Flask-SocketIO / FastAPI + MediaPipe backends that receive base64 JPEGs in JSON.

    pip install livepose fastapi uvicorn
    LIVEPOSE_MODELS=path/to/models uvicorn fastapi_app:app --port 8000

Clients keep sending ``{"image": "data:image/jpeg;base64,...", "timestamp": ms}`` text
messages to ``/ws`` (or binary JPEGs) and get the same JSON back (``result.to_dict()``).
Unlike the backends it replaces, each connection hands frames to its pipeline through a
``LatestSlot``: a frame that arrives while the previous one is being processed replaces the
waiting one instead of queueing, so latency stays bounded when the client sends too fast,
and the worker stops when the socket closes.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os

from fastapi import FastAPI, WebSocket, WebSocketDisconnect

import livepose

app = FastAPI(title="my app, with livepose")
MODELS = os.environ.get("LIVEPOSE_MODELS")


@app.get("/health")
def health() -> dict:
    """One of the app's own routes."""
    return {"status": "ok", "livepose": livepose.__version__}


def jpeg_of(message: dict) -> bytes:
    """The image bytes of a message: binary as is, or the base64 of a JSON frame."""
    if message.get("bytes") is not None:
        return message["bytes"]
    data = json.loads(message["text"])["image"]
    return base64.b64decode(data.split(",", 1)[-1])


@app.websocket("/ws")
async def poses(socket: WebSocket) -> None:
    await socket.accept()
    pipeline = livepose.Pipeline(model="lite", models_dir=MODELS)
    frames = livepose.LatestSlot()

    async def infer() -> None:
        while True:
            try:
                jpeg = await asyncio.to_thread(frames.wait)
            except livepose.SlotClosed:
                return
            try:
                result = await asyncio.to_thread(pipeline.process, jpeg)
                reply = result.to_dict()
                reply["frames_dropped"] = frames.dropped
            except livepose.Error as e:
                reply = {"error": str(e)}
            await socket.send_json(reply)

    worker = asyncio.create_task(infer())
    try:
        while True:
            message = await socket.receive()
            if message["type"] == "websocket.disconnect":
                break
            try:
                frames.put(jpeg_of(message))
            except (KeyError, ValueError) as e:
                await socket.send_json({"error": f"bad frame: {e}"})
    except WebSocketDisconnect:
        pass
    finally:
        frames.close()
        await worker
