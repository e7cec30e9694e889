// serve(): the Rust server from Node, on real sockets with the real models.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');

const livepose = require('..');
const { MODELS, LAB, jpegFrame } = require('./support');

test('serve answers HTTP and closes', async () => {
  const server = await livepose.serve({ port: 0, modelsDir: MODELS, workers: 1 });
  assert.ok(server.port > 0);
  assert.equal(server.url, `ws://127.0.0.1:${server.port}/ws`);
  const base = `http://${server.address}`;
  assert.deepEqual(await (await fetch(`${base}/health`)).json(), { status: 'ok' });
  const estimate = await fetch(`${base}/estimate_pose`, { method: 'POST', body: jpegFrame(LAB, 30, '480:640') });
  const result = await estimate.json();
  assert.equal(result.poses, 1);
  assert.equal(result.body.length, 17);
  await server.close();
  await assert.rejects(fetch(`${base}/health`));
  await server.close();
});

test('a taken port and a bad host are errors with codes', async () => {
  const server = await livepose.serve({ port: 0, modelsDir: MODELS, workers: 1 });
  await assert.rejects(livepose.serve({ port: server.port, modelsDir: MODELS }), { code: 'ERR_LIVEPOSE_SERVER' });
  assert.throws(() => livepose.serve({ host: 'localhost:1' }), { code: 'ERR_LIVEPOSE_CONFIG' });
  await server.close();
});
