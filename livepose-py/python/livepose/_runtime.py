"""Finds the ONNX Runtime shared library inside the ``onnxruntime`` package."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import Optional

_PATTERNS = {"win32": "onnxruntime.dll", "darwin": "libonnxruntime*.dylib"}


def find_onnxruntime() -> Optional[Path]:
    """The library file of the installed ``onnxruntime`` package, or ``None``.

    The package is not imported (that would load its own Python bindings); its folder is
    located and searched for ``capi/libonnxruntime.so*`` (or the platform's equivalent).
    """
    spec = importlib.util.find_spec("onnxruntime")
    if spec is None or not spec.submodule_search_locations:
        return None
    pattern = _PATTERNS.get(sys.platform, "libonnxruntime.so*")
    for folder in spec.submodule_search_locations:
        found = sorted((Path(folder) / "capi").glob(pattern))
        if found:
            return found[-1]
    return None


def use_onnxruntime_package() -> None:
    """Points ``ORT_DYLIB_PATH`` at the ``onnxruntime`` package's library, unless the user
    already set it. The library loads on first use, so importing livepose stays cheap."""
    if os.environ.get("ORT_DYLIB_PATH"):
        return
    library = find_onnxruntime()
    if library is not None:
        os.environ["ORT_DYLIB_PATH"] = str(library)
