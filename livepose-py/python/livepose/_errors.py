"""The exceptions livepose raises: every one is a ``livepose.Error``."""

from __future__ import annotations

from typing import Optional


class Error(Exception):
    """Base class of every livepose error."""


class ConfigError(Error, ValueError):
    """A bad argument: an unknown model name, a wrong array shape, a bad host."""


class ModelError(Error):
    """Models or ONNX Runtime missing, or a model failed to load or run."""


class ImageError(Error, ValueError):
    """An image that cannot be decoded, or one too large to decode."""


class ProtocolError(Error, ValueError):
    """A message that does not follow the wire protocol.

    ``code`` is the protocol's error code (``truncated``, ``bad_magic``,
    ``unsupported_version``, ``inconsistent``, ...; docs/protocol.md section 5).
    """

    code: Optional[str] = None


class ServerError(Error):
    """The server could not start (address in use, models missing)."""


class SlotClosed(Error):
    """The ``LatestSlot`` was closed."""


__all__ = ["Error", "ConfigError", "ModelError", "ImageError", "ProtocolError", "ServerError", "SlotClosed"]
