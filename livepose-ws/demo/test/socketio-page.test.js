// Socket.IO from a real page in headless Chromium (Debian's `chromium`, driven by
// playwright-core), written the way Flask-SocketIO front ends are: the client bundle from a
// <script> tag, a <video> from getUserMedia (Chromium's fake camera, fed a clip of a real
// person), a canvas, `const socket = io()`, a loop that emits `frame` with
// `canvas.toDataURL('image/jpeg', 0.8)` on every animation frame, and `pose_data` drawn on
// an overlay. Asserts that poses come back, that frames sent faster than inference are
// dropped (latest wins) rather than queued, and that closing the page ends the stream.
//
// `io()` connects to the page's own origin. A real app serves its page itself (and the
// server, run with `--no-demo` here, serves no page); here playwright answers the page's
// and the bundle's requests on the livepose server's origin (page.route), so Socket.IO
// traffic goes to the server as it would from such an app.
//
// Needs: target/debug/livepose (or LIVEPOSE_BIN), the dance clip and the models (see
// support.js), ffmpeg, /usr/bin/chromium (or CHROMIUM_PATH), and `npm install` here
// (socket.io-client's browser bundle). A missing one fails the test with its name.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import {
  DANCE, HERE, clip, launchChromium, need, needAll, startServer, streams as serverStreams, waitFor,
} from './support.js';

const BUNDLE = path.resolve(HERE, '../node_modules/socket.io-client/dist/socket.io.min.js');

let work;
let server;
let baseUrl;
let browser;

const streams = () => serverStreams(baseUrl);

// The app's page, as a Flask-SocketIO front end would have it (static/socket.io.min.js).
const APP = `<!doctype html>
<html>
<head><meta charset="utf-8"><title>pose app</title>
<style>#stage { position: relative } #overlay { position: absolute; left: 0; top: 0 }</style>
<script src="/static/socket.io.min.js"></script>
</head>
<body>
<div id="stage"><video id="video" autoplay muted playsinline></video><canvas id="overlay"></canvas></div>
<canvas id="capture" hidden></canvas>
<script>
  const app = window.app = { sent: 0, results: 0, withBody: 0, drawn: 0, maxFramesDropped: 0,
                             last: null, welcome: null, stats: null, errors: [], transport: null };
  const video = document.getElementById('video');
  const capture = document.getElementById('capture');
  const overlay = document.getElementById('overlay');
  const socket = window.socket = io();
  socket.on('welcome', (w) => { app.welcome = w; });
  socket.on('stats', (s) => { app.stats = s; });
  socket.on('error', (e) => { app.errors.push(e); });
  socket.on('connect_error', (e) => { app.errors.push({ code: 'connect_error', message: e.message }); });
  socket.on('pose_data', (data) => {
    app.results += 1;
    app.last = data;
    app.maxFramesDropped = Math.max(app.maxFramesDropped, data.frames_dropped);
    if (data.body.length !== 17) return;
    app.withBody += 1;
    const ctx = overlay.getContext('2d');
    ctx.clearRect(0, 0, overlay.width, overlay.height);
    ctx.fillStyle = '#00e676';
    for (const k of data.body) {
      if (!k.visible) continue;
      ctx.beginPath();
      ctx.arc(k.x, k.y, 5, 0, 2 * Math.PI);
      ctx.fill();
    }
    app.drawn += 1;
  });
  function loop() {
    requestAnimationFrame(loop);
    if (!socket.connected || video.readyState < 2) return;
    app.transport = socket.io.engine.transport.name;
    if (capture.width !== video.videoWidth || capture.height !== video.videoHeight) {
      // (Setting a canvas's size clears it: only when the size changes.)
      capture.width = overlay.width = video.videoWidth;
      capture.height = overlay.height = video.videoHeight;
    }
    capture.getContext('2d').drawImage(video, 0, 0);
    // Every animation frame, without waiting for results: faster than inference.
    socket.emit('frame', { image: capture.toDataURL('image/jpeg', 0.8), timestamp: Date.now() });
    app.sent += 1;
  }
  navigator.mediaDevices.getUserMedia({ video: true })
    .then((stream) => { video.srcObject = stream; return video.play(); })
    .then(() => requestAnimationFrame(loop))
    .catch((e) => app.errors.push({ code: 'camera', message: String(e) }));
</script>
</body>
</html>`;

before(async () => {
  needAll();
  need(BUNDLE, 'the socket.io-client browser bundle (npm install in livepose-ws/demo)');
  work = mkdtempSync(path.join(tmpdir(), 'livepose-socketio-page-'));
  // Chromium's fake camera plays a .y4m file in a loop: 4 s of the dance clip.
  const camera = clip(DANCE, path.join(work, 'camera.y4m'), 4,
    ['-vf', 'scale=360:640,fps=30', '-pix_fmt', 'yuv420p']);
  // One worker, so inference is the bottleneck; a frame-rate cap above the display rate, so
  // frames the page sends on every animation frame are dropped (latest wins), not refused.
  // `--no-demo`: the server serves no page (the app's page is its own).
  server = await startServer(['--no-demo', '--workers', '1', '--max-fps', '240']);
  baseUrl = server.url;
  browser = await launchChromium({
    camera,
    // A page fulfilled by page.route has no address of its own, so Chromium's Local
    // Network Access checks count it as public and block its WebSocket to 127.0.0.1
    // (net::ERR_BLOCKED_BY_LOCAL_NETWORK_ACCESS_CHECKS: the upgrade from polling fails).
    // A page served from 127.0.0.1 itself, as a real app's would be, is not blocked.
    args: ['--disable-features=LocalNetworkAccessChecks'],
  });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('a Socket.IO page (io(), toDataURL frames, pose_data) gets poses, drops frames under load, and closing it ends the stream', async () => {
  const page = await browser.newPage({ viewport: { width: 800, height: 900 } });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  // The page and the bundle, on the server's origin; everything else reaches the server.
  await page.route(`${baseUrl}/app.html`, (route) => route.fulfill({ contentType: 'text/html', body: APP }));
  await page.route('**/socket.io.min.js', (route) => route.fulfill({
    contentType: 'application/javascript', body: readFileSync(BUNDLE),
  }));
  await page.goto(`${baseUrl}/app.html`);
  const state = () => page.evaluate(() => window.app);
  const seen = await waitFor('10 results with 17 keypoints', async () => {
    const s = await state();
    if (s.errors.length > 0 || pageErrors.length > 0) assert.fail(`page errors: ${JSON.stringify([...s.errors, ...pageErrors])}`);
    return s.withBody >= 10 && s.drawn >= 10 && s.stats && s;
  });
  const live = await streams();
  const painted = await page.evaluate(() => {
    const canvas = document.getElementById('overlay');
    const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let count = 0;
    for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) count += 1;
    return count;
  });
  console.log('page:', JSON.stringify({
    sent: seen.sent, results: seen.results, withBody: seen.withBody, drawn: seen.drawn,
    maxFramesDropped: seen.maxFramesDropped, statsDropped: seen.stats.dropped, transport: seen.transport,
    streams: live, painted,
  }));
  assert.equal(seen.welcome?.type, 'welcome');
  assert.equal(live.length, 1, 'the page holds one stream');
  assert.equal(live[0].id, seen.welcome.stream_id);
  assert.equal(seen.transport, 'websocket', 'the client upgraded from polling to WebSocket');
  const { body } = seen.last;
  assert.equal(body.length, 17);
  const [width, height] = await page.evaluate(() => {
    const video = document.getElementById('video');
    return [video.videoWidth, video.videoHeight];
  });
  for (const k of body) {
    assert.ok(k.x >= 0 && k.x <= width && k.y >= 0 && k.y <= height, `${k.name} at (${k.x}, ${k.y}) inside ${width}x${height}`);
  }
  assert.ok(body.filter((k) => k.visible).length >= 10, 'a dancer in full view');
  assert.ok(painted > 0, 'keypoints drawn on the overlay');
  // Latest wins: frames sent faster than they are inferred are dropped, not queued. On
  // every animation frame that is so wherever inference takes longer than a display frame
  // (as here: see the figures printed); to not depend on that, the page also sends 20
  // frames at once (an app catching up after a stall), which no server infers one by one.
  assert.ok(seen.results < seen.sent, `${seen.results} results for ${seen.sent} frames sent`);
  const before = (await streams())[0];
  await page.evaluate(() => {
    const image = document.getElementById('capture').toDataURL('image/jpeg', 0.8);
    for (let i = 0; i < 20; i++) window.socket.emit('frame', { image, timestamp: Date.now() });
    window.app.sent += 20;
  });
  const after = await waitFor('the burst to reach the server', async () => {
    const s = (await streams())[0];
    return s.frames_received >= before.frames_received + 20 && s;
  });
  // A result after the burst carries the drops.
  const final = await waitFor('a result after the burst', async () => {
    const s = await state();
    return s.maxFramesDropped > 0 && s;
  });
  console.log('page: drops', JSON.stringify({
    animationFrames: { sent: seen.sent, results: seen.results, dropped: live[0].frames_dropped },
    withBurst: { sent: final.sent, results: final.results, dropped: after.frames_dropped,
                 maxFramesDropped: final.maxFramesDropped },
  }));
  assert.ok(after.frames_dropped > before.frames_dropped,
    `frames dropped in /streams: ${before.frames_dropped} before the burst of 20, ${after.frames_dropped} after`);
  assert.ok(final.results < final.sent, `${final.results} results for ${final.sent} frames sent`);
  assert.ok(final.maxFramesDropped > 0, `frames_dropped in pose_data: ${final.maxFramesDropped}`);
  const closed = performance.now();
  await page.close();
  await waitFor('the server to drop the closed page\'s stream', async () => (await streams()).length === 0, 10_000);
  console.log(`page: stream ${live[0].id} gone ${Math.round(performance.now() - closed)} ms after page.close()`);
});
