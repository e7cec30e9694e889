// The `ws` example (examples/ws_server.js) as its clients use it.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const WebSocket = require('ws');

const { createServer } = require('../examples/ws_server');
const { MODELS, LAB, jpegFrame } = require('./support');

function next(socket) {
  return new Promise((resolve) => socket.once('message', (data) => resolve(JSON.parse(data.toString()))));
}

test('JPEG and JSON+base64 frames get poses; bad ones an error; the socket stays', async () => {
  const server = await createServer({ port: 0, modelsDir: MODELS });
  const socket = new WebSocket(`ws://127.0.0.1:${server.address().port}`);
  await new Promise((resolve) => socket.once('open', resolve));
  const jpeg = jpegFrame(LAB, 30, '480:640');
  socket.send(jpeg);
  const first = await next(socket);
  assert.equal(first.poses.length, 1);
  assert.equal(first.poses[0].landmarks.length, 33 * 5);
  socket.send(Buffer.from('not a jpeg'));
  assert.equal((await next(socket)).error, 'ERR_LIVEPOSE_IMAGE');
  socket.send(JSON.stringify({ image: `data:image/jpeg;base64,${jpeg.toString('base64')}` }));
  assert.equal((await next(socket)).poses.length, 1);
  socket.send('{not json');
  assert.equal((await next(socket)).error, 'bad_frame');
  socket.close();
  await new Promise((resolve) => server.close(resolve));
});
