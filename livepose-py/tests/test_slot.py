"""livepose.LatestSlot: latest wins, drops counted, waiting releases the GIL."""

from __future__ import annotations

import threading

import pytest

import livepose


def test_latest_wins_and_drops_are_counted():
    slot = livepose.LatestSlot()
    assert slot.take() is None
    assert slot.put("a") is None
    assert slot.put("b") == "a"
    assert slot.put({"frame": 3}) == "b"
    assert slot.take() == {"frame": 3}
    assert slot.take() is None
    assert (slot.puts, slot.taken, slot.dropped) == (3, 1, 2)


def test_wait_times_out_and_returns_none():
    assert livepose.LatestSlot().wait(timeout=0.05) is None


def test_wait_releases_the_gil_for_the_producer():
    slot = livepose.LatestSlot()
    got = []
    consumer = threading.Thread(target=lambda: got.append(slot.wait(timeout=30)))
    consumer.start()
    # If wait() held the GIL, this thread could not run until it timed out.
    slot.put("frame")
    consumer.join()
    assert got == ["frame"]


def test_close_wakes_waiters_and_refuses_puts():
    slot = livepose.LatestSlot()
    slot.put(1)
    slot.close()
    assert slot.closed
    with pytest.raises(livepose.SlotClosed):
        slot.put(2)
    assert slot.wait() == 1
    with pytest.raises(livepose.SlotClosed):
        slot.wait()
    with pytest.raises(livepose.ConfigError):
        slot.wait(timeout=-1)
