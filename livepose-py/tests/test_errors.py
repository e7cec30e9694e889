"""Every failure is a livepose.Error subclass with a message naming the problem."""

from __future__ import annotations

import numpy as np
import pytest

import livepose
from conftest import LAB, jpeg_frame


def test_the_hierarchy():
    for cls in (livepose.ConfigError, livepose.ModelError, livepose.ImageError,
                livepose.ProtocolError, livepose.ServerError, livepose.SlotClosed):
        assert issubclass(cls, livepose.Error)
    assert issubclass(livepose.ConfigError, ValueError)
    assert issubclass(livepose.ImageError, ValueError)


@pytest.mark.parametrize("kwargs, words", [
    ({"model": "heavy"}, "unknown model \"heavy\" (expected one of: lite, full)"),
    ({"mode": "video"}, "unknown mode \"video\""),
    ({"smoothing": "kalman"}, "unknown smoothing \"kalman\""),
    ({"threads": 0}, "must be at least 1"),
])
def test_bad_options(kwargs, words, models_dir):
    with pytest.raises(livepose.ConfigError, match=None) as caught:
        livepose.Pipeline(models_dir=models_dir, **kwargs)
    assert words in str(caught.value)


def test_missing_models_name_the_file(tmp_path):
    with pytest.raises(livepose.ModelError) as caught:
        livepose.Pipeline(models_dir=tmp_path)
    assert str(tmp_path) in str(caught.value)


def test_bad_images(models_dir):
    p = livepose.Pipeline(models_dir=models_dir)
    with pytest.raises(livepose.ImageError, match="image format"):
        p.process(b"not an image")
    truncated = jpeg_frame(LAB, 30, "480:640")[:2000]
    with pytest.raises(livepose.ImageError):
        p.process(truncated)
    with pytest.raises(livepose.ConfigError, match=r"\(H, W, 3\)"):
        p.process(np.zeros((10, 10, 4), dtype=np.uint8))
    with pytest.raises(livepose.ConfigError, match="not str"):
        p.process("frame.jpg")
    # The pipeline still works afterwards.
    assert len(p.process(jpeg_frame(LAB, 30, "480:640"))) == 1
