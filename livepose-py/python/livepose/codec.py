"""Protocol v1 messages (docs/protocol.md): frames and results, bytes in and out.

>>> from livepose import codec
>>> message = codec.encode_frame(b"\\xff\\xd8...", sequence=7, capture_ts_us=1000)
>>> codec.decode_frame(message).sequence
7

Malformed messages raise ``livepose.ProtocolError`` whose ``code`` names the problem.
"""

from __future__ import annotations

from ._livepose import (
    Frame,
    WireResult,
    decode_frame,
    decode_result,
    encode_frame,
    encode_result,
)

__all__ = ["Frame", "WireResult", "encode_frame", "decode_frame", "encode_result", "decode_result"]
