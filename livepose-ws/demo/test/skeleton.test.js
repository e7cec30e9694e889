// Interpolation between results and skeleton drawing, without a browser: a recording
// stand-in for the canvas context counts what would be drawn.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { PoseInterpolator, POSE_CONNECTIONS, HAND_CONNECTIONS, drawPoses, lerpInto } from '../js/skeleton.js';

function pose(id, x, { visibility = 1, hands = [] } = {}) {
  const landmarks = new Float32Array(33 * 5);
  for (let i = 0; i < 33; i++) landmarks.set([x, i / 33, 0, visibility, 1], i * 5);
  return { id, landmarks, hands };
}

function hand(handedness, x) {
  return { handedness, landmarks: new Float32Array(21 * 3).fill(x) };
}

const result = (captureMs, poses) => ({ captureTsUs: BigInt(captureMs * 1000), poses });

test('lerpInto blends element-wise', () => {
  assert.deepEqual(Array.from(lerpInto(new Float32Array(2), [0, 10], [10, 20], 0.25)), [2.5, 12.5]);
});

test('a single result is drawn as it is', () => {
  const interp = new PoseInterpolator();
  assert.deepEqual(interp.sample(0), []);
  interp.push(result(0, [pose(1, 0.5)]), 100);
  assert.equal(interp.sample(100)[0].landmarks[0], 0.5);
});

test('a tracked pose moves from the previous result to the latest over one result interval', () => {
  const interp = new PoseInterpolator();
  interp.push(result(1000, [pose(7, 0.2, { hands: [hand('left', 0.1)] })]), 1050);
  interp.push(result(1040, [pose(7, 0.6, { hands: [hand('left', 0.5)] })]), 1090); // 40 ms apart
  const x = (t) => interp.sample(t)[0].landmarks[0];
  assert.ok(Math.abs(x(1090) - 0.2) < 1e-6, 'starts where the previous result was');
  assert.ok(Math.abs(x(1100) - 0.3) < 1e-6, 'a quarter of the way after 10 ms');
  assert.ok(Math.abs(interp.sample(1110)[0].hands[0].landmarks[0] - 0.3) < 1e-6, 'hands move too');
  assert.ok(Math.abs(x(1130) - 0.6) < 1e-6, 'arrives after the interval');
  assert.ok(Math.abs(x(5000) - 0.6) < 1e-6, 'and stays');
});

test('new tracks appear at once, lost tracks vanish, clear forgets', () => {
  const interp = new PoseInterpolator();
  interp.push(result(0, [pose(1, 0.2)]), 0);
  interp.push(result(33, [pose(2, 0.8)]), 33);
  const drawn = interp.sample(40);
  assert.deepEqual(drawn.map((p) => p.id), [2]);
  assert.equal(drawn[0].landmarks[0], pose(2, 0.8).landmarks[0]);
  interp.clear();
  assert.deepEqual(interp.sample(50), []);
});

test('sampling reuses its buffers', () => {
  const interp = new PoseInterpolator();
  interp.push(result(0, [pose(1, 0.2)]), 0);
  interp.push(result(33, [pose(1, 0.4)]), 33);
  assert.equal(interp.sample(40)[0].landmarks, interp.sample(45)[0].landmarks);
});

function recorder() {
  const calls = { lineTo: 0, fillRect: 0, stroke: 0 };
  return {
    calls,
    beginPath() {}, moveTo() {}, stroke() { calls.stroke += 1; },
    lineTo() { calls.lineTo += 1; }, fillRect() { calls.fillRect += 1; },
  };
}

test('every bone and landmark of a visible pose is drawn, with its hands', () => {
  const ctx = recorder();
  const bones = drawPoses(ctx, [pose(1, 0.5, { hands: [hand('left', 0.5), hand('right', 0.6)] })], 640, 480);
  assert.equal(bones, POSE_CONNECTIONS.length + 2 * HAND_CONNECTIONS.length);
  assert.equal(ctx.calls.lineTo, bones);
  assert.equal(ctx.calls.fillRect, 33);
});

test('landmarks below the visibility threshold and their bones are left out', () => {
  const ctx = recorder();
  assert.equal(drawPoses(ctx, [pose(1, 0.5, { visibility: 0.2 })], 640, 480), 0);
  assert.equal(ctx.calls.fillRect, 0);
  const p = pose(1, 0.5);
  p.landmarks[0 * 5 + 3] = 0; // the nose: two bones touch it
  assert.equal(drawPoses(recorder(), [p], 640, 480), POSE_CONNECTIONS.length - 2);
});
