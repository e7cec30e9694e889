// Options: plain objects parsed once by livepose's Rust options types (PipelineOptions,
// ServeOptions), named in camelCase; options.d.ts held to what the addon accepts; raw
// pixels into process().
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const livepose = require('..');
const { MODELS, LAB, clipPath, jpegFrame } = require('./support');

/** The fields of `interface name` in options.d.ts. */
function declared(name) {
  const text = fs.readFileSync(path.join(__dirname, '..', 'options.d.ts'), 'utf8');
  const body = text.match(new RegExp(`export interface ${name} \\{([\\s\\S]*?)\\n\\}`))[1];
  return new Set([...body.matchAll(/^ {2}(\w+)\?:/gm)].map((m) => m[1]));
}

/** The option names an unknown one is told to pick from. */
function accepted(call) {
  try {
    call({ noSuchOption: 1 });
  } catch (e) {
    assert.equal(e.code, 'ERR_LIVEPOSE_CONFIG', e.message);
    const found = e.message.match(/unknown option "noSuchOption" \(expected one of: ([^)]*)\)/);
    assert.ok(found, e.message);
    return new Set(found[1].split(', '));
  }
  assert.fail('an unknown option was accepted');
}

test('options.d.ts lists every option the addon accepts, in camelCase', () => {
  assert.deepEqual(accepted((o) => new livepose.Pipeline(o)), declared('PipelineOptions'));
  assert.deepEqual(accepted((o) => livepose.serve(o)), declared('ServeOptions'));
});

test('each refusal names its option, in camelCase, with a native code', () => {
  assert.throws(() => new livepose.Pipeline({ numPoses: 0 }),
    { code: 'ERR_LIVEPOSE_CONFIG', message: 'option "numPoses" must be 1 to 64, got 0' });
  assert.throws(() => new livepose.Pipeline({ hands: 'yes' }),
    { code: 'ERR_LIVEPOSE_CONFIG', message: 'option "hands": invalid type: string "yes", expected a boolean' });
  assert.throws(() => new livepose.Pipeline(7), { code: 'ERR_LIVEPOSE_CONFIG' });
  assert.throws(() => livepose.serve({ viewToken: 'v' }),
    { code: 'ERR_LIVEPOSE_CONFIG', message: 'option "viewToken" needs room_token (rooms are off without it)' });
  assert.throws(() => livepose.serve({ maxFps: 0 }), { code: 'ERR_LIVEPOSE_CONFIG' });
  // Thrown natively: an Error with the code as an own property, the message untouched.
  try {
    livepose.serve({ port: 70000 });
  } catch (e) {
    assert.ok(e instanceof Error && Object.hasOwn(e, 'code'));
    assert.match(e.message, /^option "port": /);
  }
});

test('undefined and null take the defaults', async () => {
  const pipeline = new livepose.Pipeline({ modelsDir: MODELS, smoothing: undefined, numPoses: null, mode: 'image' });
  const result = await pipeline.process(jpegFrame(LAB, 30, '480:640'));
  assert.equal(result.poses.length, 1);
});

test('server options reach the server', async () => {
  const server = await livepose.serve({ port: 0, modelsDir: MODELS, workers: 1, token: 'secret', demo: false, maxFps: 5 });
  try {
    const base = `http://${server.address}`;
    assert.equal((await fetch(`${base}/streams`)).status, 401);
    assert.equal((await fetch(`${base}/streams`, { headers: { authorization: 'Bearer secret' } })).status, 200);
    assert.equal((await fetch(`${base}/`)).status, 404);
  } finally {
    await server.close();
  }
});

/** Frame 30 of the clip as raw RGB pixels, 480x640, decoded by ffmpeg. */
function rgbFrame() {
  return execFileSync('ffmpeg', ['-v', 'error', '-i', clipPath(LAB), '-vf', 'select=eq(n\\,30),scale=480:640',
    '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { maxBuffer: 64 << 20 });
}

/** The same pixels with an alpha channel. */
function withAlpha(rgb) {
  const rgba = Buffer.alloc((rgb.length / 3) * 4, 255);
  for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) rgb.copy(rgba, j, i, i + 3);
  return rgba;
}

test('process takes raw RGB and RGBA pixels, the same poses from either', async () => {
  const pipeline = new livepose.Pipeline({ modelsDir: MODELS, mode: 'image' });
  const rgb = rgbFrame();
  const rgba = withAlpha(rgb);
  assert.equal(rgb.length, 480 * 640 * 3);
  const fromRgb = await pipeline.process({ data: new Uint8Array(rgb), width: 480, height: 640 });
  const fromRgba = await pipeline.process({ data: rgba, width: 480, height: 640 });
  assert.equal(fromRgb.poses.length, 1);
  assert.deepEqual(fromRgb.frameSize, [480, 640]);
  assert.equal(fromRgb.timings.decode, 0, 'raw pixels need no decoding');
  assert.deepEqual(fromRgba.poses[0].landmarks, fromRgb.poses[0].landmarks);
  // And close to the same frame through JPEG (compression moves landmarks a little).
  const fromJpeg = await pipeline.process(jpegFrame(LAB, 30, '480:640'));
  const [a, b] = [fromRgb.poses[0].landmarks, fromJpeg.poses[0].landmarks];
  let moved = 0;
  for (let i = 0; i < 33; i += 1) moved += Math.hypot(a[i * 5] - b[i * 5], a[i * 5 + 1] - b[i * 5 + 1]) / 33;
  assert.ok(moved < 0.02, `landmarks ${moved} apart on average`);
  assert.throws(() => pipeline.process({ data: rgb.subarray(1), width: 480, height: 640 }),
    { code: 'ERR_LIVEPOSE_CONFIG', message: /raw pixels of 480x640 need 921600 \(RGB\) or 1228800 \(RGBA\) bytes, got 921599/ });
});
