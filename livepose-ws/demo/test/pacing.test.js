// PoseStream's pacing at a target frame rate (`slotOpen` / `markSent`), with simulated time:
// a camera's frames as a page sees them (at display refreshes, so a little early or late)
// must go at the target rate, not at a fraction of it. Regression: a strict "1/targetFps
// since the last send" refused every frame that came a refresh early, and a 30 fps camera
// at a 30 fps target sent 21–22 frames a second (scripts/uplink.sh, docs/video.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { PoseStream } from '../js/stream.js';

/** Frames sent in `seconds` by a camera at `cameraFps` seen at `refreshHz` refreshes. */
function sent(targetFps, cameraFps, refreshHz, seconds, { pauseAt = Infinity, pauseMs = 0 } = {}) {
  const stream = new PoseStream('ws://127.0.0.1:9/ws', { adapt: false });
  stream.maxSendFps = targetFps;
  const refresh = 1000 / refreshHz;
  let presented = -1;
  let captured = -1;
  const times = [];
  for (let t = 0; t < seconds * 1000; t += refresh) {
    if (t >= pauseAt && t < pauseAt + pauseMs) continue;
    // The newest camera frame shown at this refresh (rounded to the refresh's clock).
    presented = Math.floor(t / (1000 / cameraFps));
    const now = Math.round(t * 10) / 10;
    if (presented !== captured && stream.slotOpen(now)) {
      captured = presented;
      stream.markSent(now);
      times.push(now);
    }
  }
  return times;
}

test('a 30 fps camera at a 30 fps target sends 30 frames a second', () => {
  for (const refreshHz of [60, 59.94, 120, 144]) {
    const n = sent(30, 30, refreshHz, 10).length;
    assert.ok(n >= 295 && n <= 301, `${refreshHz} Hz: ${n} frames in 10 s`);
  }
});

test('a faster camera is held to the target on average', () => {
  assert.ok(Math.abs(sent(30, 60, 60, 10).length - 300) <= 2);
  assert.ok(Math.abs(sent(15, 30, 60, 10).length - 150) <= 2);
  assert.ok(Math.abs(sent(20, 60, 120, 10).length - 200) <= 2);
});

test('a pause gives no burst after it', () => {
  const times = sent(30, 60, 60, 4, { pauseAt: 1000, pauseMs: 1000 });
  const after = times.filter((t) => t >= 2000);
  // Frames after the pause are spaced as before it: none closer than half an interval.
  for (let i = 1; i < after.length; i++) {
    assert.ok(after[i] - after[i - 1] >= 1000 / 30 / 2, `${after[i - 1]} then ${after[i]}`);
  }
  assert.ok(Math.abs(after.length - 60) <= 2, `${after.length} frames in the 2 s after the pause`);
});

test('no target: every new frame may go', () => {
  assert.equal(sent(Infinity, 30, 60, 2).length, 60);
});
