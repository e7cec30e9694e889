// What the viewer page receives, told apart (rooms.js), without a browser.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { encodeFrame, ImageFormat } from '../js/protocol.js';
import { classifyMessage, posesFromJson, roomsOf, viewUrl } from '../js/rooms.js';

// A protocol v1 result with no poses: the 64-byte header and no timings.
function emptyResult(sequence) {
  const bytes = new Uint8Array(64);
  const view = new DataView(bytes.buffer);
  bytes.set([0x4c, 0x50, 0x4f, 0x53, 1, 2]);
  view.setUint16(6, 64, true);
  view.setBigUint64(8, BigInt(sequence), true);
  return bytes.buffer;
}

test('results, frames, annotated JPEGs, JSON results and control messages are told apart', () => {
  const result = classifyMessage(emptyResult(7));
  assert.equal(result.kind, 'result');
  assert.equal(result.result.sequence, 7n);
  const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 0xff, 0xd9]);
  const frame = classifyMessage(encodeFrame({ sequence: 3, captureTsUs: 5, format: ImageFormat.JPEG }, jpeg));
  assert.equal(frame.kind, 'frame');
  assert.deepEqual(Array.from(frame.frame.payload), Array.from(jpeg));
  assert.equal(classifyMessage(jpeg.buffer).kind, 'jpeg');
  assert.equal(classifyMessage('{"type":"error","code":"x","message":"y"}').kind, 'control');
  assert.equal(classifyMessage('{"body":[],"sequence":1}').kind, 'json');
  assert.equal(classifyMessage('not json').kind, 'unknown');
  assert.equal(classifyMessage(new Uint8Array([1, 2, 3])).kind, 'unknown');
  const truncated = new Uint8Array(emptyResult(1)).subarray(0, 20);
  assert.equal(classifyMessage(truncated).kind, 'unknown');
});

test('a JSON result becomes a drawable pose normalised by the frame size', () => {
  const body = Array.from({ length: 17 }, (_, i) => ({ x: 10 * i, y: 20, confidence: 90, visible: true }));
  const [pose] = posesFromJson({ body }, 200, 100);
  assert.equal(pose.landmarks.length, 33 * 5);
  // MoveNet's left shoulder (5) is BlazePose's 11.
  assert.ok(Math.abs(pose.landmarks[11 * 5] - 50 / 200) < 1e-6);
  assert.ok(Math.abs(pose.landmarks[11 * 5 + 1] - 0.2) < 1e-6);
  assert.ok(Math.abs(pose.landmarks[11 * 5 + 3] - 0.9) < 1e-6);
  assert.equal(pose.landmarks[1 * 5 + 3], 0, 'a landmark JSON lacks is invisible');
  assert.deepEqual(posesFromJson({ body: [] }, 200, 100), []);
});

test('the view socket URL and the room list', () => {
  assert.equal(viewUrl('http://h:1/viewer?room=a', 'r 1', { frames: 'annotated', token: 't' }),
    'ws://h:1/ws/rooms/r%201/view?frames=annotated&token=t');
  assert.equal(viewUrl('https://h/viewer', 'r1'), 'wss://h/ws/rooms/r1/view');
  assert.deepEqual(roomsOf({ rooms: [{ room: 'r1', camera: { kind: 'socket' }, viewers: 2, fps_in: 9 }, { nope: 1 }] }),
    [{ room: 'r1', camera: { kind: 'socket' }, viewers: 2 }]);
  assert.deepEqual(roomsOf(null), []);
});
