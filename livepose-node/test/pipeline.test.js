// The pipeline from Node: a Buffer in, a plain object with Float32Arrays out, off the
// JavaScript thread; errors with codes.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');

const livepose = require('..');
const { MODELS, LAB, jpegFrame } = require('./support');

const frame = () => jpegFrame(LAB, 30, '480:640');

test('a JPEG gives poses with typed arrays, angles and timings', async () => {
  const pipeline = new livepose.Pipeline({ model: 'lite', modelsDir: MODELS });
  const result = await pipeline.process(frame(), 1_000_000);
  assert.equal(result.poses.length, 1);
  const [pose] = result.poses;
  assert.ok(pose.landmarks instanceof Float32Array && pose.landmarks.length === 33 * 5);
  assert.ok(pose.worldLandmarks instanceof Float32Array && pose.worldLandmarks.length === 33 * 3);
  assert.ok(pose.landmarks[0] > 0 && pose.landmarks[0] < 1);
  const names = pose.angles.map((a) => a.name);
  assert.ok(names.includes('left_elbow') && names.includes('trunk_lean'));
  assert.ok(pose.angles.every((a) => a.degrees >= 0 && a.degrees <= 180));
  assert.ok(result.timings.total >= result.timings.landmarks && result.timings.landmarks > 0);
  assert.deepEqual(result.frameSize, [480, 640]);
  assert.equal(result.timestampUs, 1_000_000);
  assert.ok(result.detectorRan);
  const again = await pipeline.process(frame(), 1_000_000);
  assert.ok(again.timestampAdjusted && again.timestampUs > 1_000_000 && !again.detectorRan);
});

test('process runs off the JavaScript thread', async () => {
  const pipeline = new livepose.Pipeline({ modelsDir: MODELS, mode: 'image' });
  let ticks = 0;
  const timer = setInterval(() => { ticks += 1; }, 1);
  // Had process() worked on this thread, no timer could fire before it resolved.
  await pipeline.process(jpegFrame(LAB, 10));
  clearInterval(timer);
  assert.ok(ticks >= 2, `${ticks} timer ticks while processing`);
});

test('hands, two people, full model', async () => {
  const pipeline = new livepose.Pipeline({ model: 'full', hands: true, numPoses: 2, mode: 'image', modelsDir: MODELS });
  const result = await pipeline.process(frame());
  const hands = result.poses.flatMap((p) => p.hands);
  assert.ok(hands.length >= 1);
  for (const hand of hands) {
    assert.ok(['left', 'right'].includes(hand.handedness));
    assert.equal(hand.landmarks.length, 21 * 3);
  }
});

test('errors carry codes and the pipeline keeps working', async () => {
  assert.throws(() => new livepose.Pipeline({ model: 'heavy', modelsDir: MODELS }),
    { code: 'ERR_LIVEPOSE_CONFIG', message: 'option "model": unknown model "heavy" (expected one of: lite, full)' });
  assert.throws(() => new livepose.Pipeline({ threads: 0, modelsDir: MODELS }), { code: 'ERR_LIVEPOSE_CONFIG' });
  assert.throws(() => new livepose.Pipeline({ modelsDir: '/nonexistent/models' }),
    (e) => e.code === 'ERR_LIVEPOSE_MODEL' && e.message.includes('/nonexistent/models'));
  const pipeline = new livepose.Pipeline({ modelsDir: MODELS });
  await assert.rejects(pipeline.process(Buffer.from('not an image')), { code: 'ERR_LIVEPOSE_IMAGE' });
  await assert.rejects(pipeline.process(frame().subarray(0, 2000)), { code: 'ERR_LIVEPOSE_IMAGE' });
  assert.throws(() => pipeline.process(frame(), -5), { code: 'ERR_LIVEPOSE_CONFIG' });
  assert.throws(() => pipeline.process('frame.jpg'));
  assert.equal((await pipeline.process(frame())).poses.length, 1);
});

test('ONNX Runtime comes from onnxruntime-node', () => {
  assert.match(livepose.findOnnxruntime(), /onnxruntime-node[\\/]bin[\\/].*onnxruntime/);
  assert.match(livepose.onnxruntimeLibrary(), /onnxruntime/);
});
