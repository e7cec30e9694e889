# Type stubs of the native module (src/*.rs).
from os import PathLike
from types import TracebackType
from typing import Any, Dict, List, Literal, Mapping, Optional, Tuple, Union, final

from typing_extensions import TypedDict, Unpack


import numpy as np
import numpy.typing as npt


__version__: str
__all__ = [
    "ConfigError", "Error", "ImageError", "ModelError", "ProtocolError", "ServerError",
    "SlotClosed", "Frame", "Hand", "LatestSlot", "Pipeline", "Pose", "PoseResult", "Server", "WireResult",
    "__version__", "decode_frame", "decode_result", "encode_frame", "encode_result",
    "onnxruntime_library", "serve", "serve_background",
]

_ImageInput = Union[bytes, bytearray, memoryview, npt.NDArray[np.uint8]]

class Error(Exception):
    """Base class of every livepose error."""

class ConfigError(Error, ValueError):
    """A bad argument: an unknown option or value, a wrong array shape, a bad host."""

class ModelError(Error):
    """Models or ONNX Runtime missing, or a model failed to load or run."""

class ImageError(Error, ValueError):
    """An image that cannot be decoded, or one too large to decode."""

class ProtocolError(Error, ValueError):
    """A message that does not follow the wire protocol; ``code`` is its error code."""

    code: Optional[str]

class ServerError(Error):
    """The server could not start (address in use, models missing)."""

class SlotClosed(Error):
    """The ``LatestSlot`` was closed."""

class _PipelineOptions(TypedDict, total=False):
    """``Pipeline``'s keyword options: livepose-core's ``PipelineOptions`` (defaults there:
    lite, no hands, live, one_euro, 1 thread, 1 person)."""

    model: Literal["lite", "full"]
    hands: bool
    mode: Literal["live", "image"]
    smoothing: Literal["one_euro", "steady", "ema", "none"]
    threads: int
    num_poses: int
    models_dir: Optional[Union[str, PathLike[str]]]

@final
class Pipeline:
    """MediaPipe BlazePose on ONNX Runtime for one stream of frames."""

    def __new__(cls, **options: Unpack[_PipelineOptions]) -> Pipeline: ...
    def process(self, image: _ImageInput, timestamp_us: Optional[int] = None) -> PoseResult:
        """Processes JPEG/PNG/WebP bytes or a uint8 (H, W, 3) RGB array; releases the GIL."""
    def reset(self) -> None:
        """Forgets every tracked person."""

@final
class PoseResult:
    """The people found in one frame."""

    @property
    def poses(self) -> List[Pose]: ...
    @property
    def landmarks(self) -> npt.NDArray[np.float32]:
        """(N, 33, 5): x, y, z, visibility, presence."""
    @property
    def world_landmarks(self) -> npt.NDArray[np.float32]:
        """(N, 33, 3) in metres."""
    @property
    def ids(self) -> List[int]: ...
    @property
    def angles(self) -> Dict[str, float]:
        """The first person's joint angles in degrees, by name."""
    @property
    def hands(self) -> List[Hand]: ...
    @property
    def timings(self) -> Dict[str, int]:
        """Microseconds per stage: decode, detect, crop, landmarks, hands, post, total."""
    @property
    def timestamp_us(self) -> int: ...
    @property
    def timestamp_adjusted(self) -> bool: ...
    @property
    def detector_ran(self) -> bool: ...
    @property
    def frame_size(self) -> Tuple[int, int]: ...
    def to_dict(self) -> Dict[str, Any]:
        """The JSON shape of the Python backends livepose replaces."""
    def to_bytes(self, sequence: int = 0, capture_ts_us: int = 0) -> bytes:
        """A protocol v1 result message."""
    def __len__(self) -> int: ...

@final
class Pose:
    """One person."""

    @property
    def id(self) -> int: ...
    @property
    def score(self) -> float: ...
    @property
    def bbox(self) -> Tuple[float, float, float, float]: ...
    @property
    def landmarks(self) -> npt.NDArray[np.float32]:
        """(33, 5): x, y, z, visibility, presence."""
    @property
    def world_landmarks(self) -> npt.NDArray[np.float32]:
        """(33, 3) in metres."""
    @property
    def angles(self) -> Dict[str, float]: ...
    @property
    def hands(self) -> List[Hand]: ...

@final
class Hand:
    """One hand: 21 landmarks."""

    @property
    def pose_id(self) -> int: ...
    @property
    def handedness(self) -> str:
        """"left", "right" or "unknown"."""
    @property
    def score(self) -> float: ...
    @property
    def landmarks(self) -> npt.NDArray[np.float32]:
        """(21, 3)."""
    @property
    def world_landmarks(self) -> npt.NDArray[np.float32]:
        """(21, 3) in metres."""

@final
class LatestSlot:
    """Latest-wins hand-off: put replaces, take/wait get the newest."""

    def __new__(cls) -> LatestSlot: ...
    def put(self, item: Any) -> Optional[Any]: ...
    def take(self) -> Optional[Any]: ...
    def wait(self, timeout: Optional[float] = None) -> Optional[Any]: ...
    def close(self) -> None: ...
    @property
    def closed(self) -> bool: ...
    @property
    def puts(self) -> int: ...
    @property
    def taken(self) -> int: ...
    @property
    def dropped(self) -> int: ...

@final
class Server:
    """A running livepose server."""

    @property
    def address(self) -> str: ...
    @property
    def port(self) -> int: ...
    @property
    def url(self) -> str: ...
    @property
    def running(self) -> bool: ...
    def stop(self) -> None: ...
    def __enter__(self) -> Server: ...
    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> bool: ...

class _ServeOptions(TypedDict, total=False):
    """``serve``'s keyword options: livepose-ws's ``ServeOptions`` (defaults there)."""

    models_dir: Optional[Union[str, PathLike[str]]]
    model: Literal["lite", "full"]
    hands: bool
    workers: Optional[int]
    token: Optional[str]
    admin_token: Optional[str]
    room_token: Optional[str]
    view_token: Optional[str]
    allowed_origins: List[str]
    max_connections: int
    max_connections_per_ip: int
    max_fps: int
    max_message_bytes: int
    max_pixels: int
    heartbeat_secs: float
    header_timeout_secs: float
    body_timeout_secs: float
    demo: bool
    socketio: bool
    sources: List[str]
    source_stop_when_unwatched: bool
    max_sources: int
    source_allow: List[str]
    source_tls_insecure: bool
    source_ca_file: Optional[Union[str, PathLike[str]]]
    source_reencode: bool
    nats: Optional[str]
    node_id: Optional[str]

def serve(
    host: Optional[str] = None, port: Optional[int] = None, **options: Unpack[_ServeOptions]
) -> None:
    """Runs the server until Ctrl-C (host defaults to 127.0.0.1, port to 8765)."""

def serve_background(
    host: Optional[str] = None, port: Optional[int] = None, **options: Unpack[_ServeOptions]
) -> Server:
    """Starts the server in the background (host defaults to 127.0.0.1, port to 8765)."""

def onnxruntime_library(path: Optional[Union[str, PathLike[str]]] = None) -> str:
    """Loads ONNX Runtime and returns the library file in use."""

# The wire codec, re-exported by livepose.codec.

@final
class Frame:
    @property
    def sequence(self) -> int: ...
    @property
    def capture_ts_us(self) -> int: ...
    @property
    def format(self) -> str: ...
    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...
    @property
    def flags(self) -> int: ...
    @property
    def payload(self) -> bytes: ...

@final
class WireResult:
    @property
    def sequence(self) -> int: ...
    @property
    def capture_ts_us(self) -> int: ...
    @property
    def server_recv_us(self) -> int: ...
    @property
    def server_start_us(self) -> int: ...
    @property
    def server_end_us(self) -> int: ...
    @property
    def frames_dropped(self) -> int: ...
    @property
    def flags(self) -> int: ...
    @property
    def timings(self) -> Dict[str, int]: ...
    @property
    def poses(self) -> List[Pose]: ...

def encode_frame(
    payload: bytes,
    *,
    sequence: int = 0,
    capture_ts_us: int = 0,
    format: str = "jpeg",
    width: int = 0,
    height: int = 0,
    flags: int = 0,
) -> bytes: ...
def decode_frame(message: bytes) -> Frame: ...
def encode_result(
    result: Union[PoseResult, Mapping[str, Any]], *, sequence: int = 0, capture_ts_us: int = 0
) -> bytes: ...
def decode_result(message: bytes) -> WireResult: ...
