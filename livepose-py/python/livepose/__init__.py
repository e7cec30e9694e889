"""livepose: real-time pose estimation (MediaPipe BlazePose on ONNX Runtime) in Rust.

>>> import livepose
>>> pipeline = livepose.Pipeline(model="lite")            # doctest: +SKIP
>>> result = pipeline.process(open("frame.jpg", "rb").read())  # doctest: +SKIP
>>> result.landmarks.shape                                # doctest: +SKIP
(1, 33, 5)

ONNX Runtime comes from the ``onnxruntime`` package (a dependency), found automatically;
``ORT_DYLIB_PATH`` overrides it. Models come from ``models_dir=``, else ``LIVEPOSE_MODELS``.
"""

from __future__ import annotations

from ._runtime import find_onnxruntime, use_onnxruntime_package

use_onnxruntime_package()

from . import codec  # noqa: E402
from ._livepose import (  # noqa: E402
    ConfigError,
    Error,
    Hand,
    ImageError,
    LatestSlot,
    ModelError,
    Pipeline,
    Pose,
    PoseResult,
    ProtocolError,
    Server,
    ServerError,
    SlotClosed,
    __version__,
    onnxruntime_library,
    serve,
    serve_background,
)

__all__ = [
    "Pipeline",
    "PoseResult",
    "Pose",
    "Hand",
    "LatestSlot",
    "Server",
    "serve",
    "serve_background",
    "codec",
    "onnxruntime_library",
    "find_onnxruntime",
    "Error",
    "ConfigError",
    "ModelError",
    "ImageError",
    "ProtocolError",
    "ServerError",
    "SlotClosed",
    "__version__",
]
