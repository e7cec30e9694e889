// The room viewer page (`/viewer`) in headless Chromium against the real server with rooms
// (`serve --room-token T`, real models): a camera (a Node `ws` client sending JPEG frames of
// a clip of a real person to /ws/rooms/r1/camera) and the page watching room r1, drawing
// its skeletons; with `frames=1` over the camera's frames; with `frames=annotated` the
// server's annotated JPEGs. Closing the page ends its viewer (`GET /rooms/r1`).
// Screenshots go to target/artifacts/.
//
// Needs what e2e.test.js needs (see support.js).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

import WebSocket from 'ws';

import { encodeFrameHeader, ImageFormat } from '../js/protocol.js';
import { ARTIFACTS, DANCE, jpegFrames, launchChromium, needAll, startServer, waitFor } from './support.js';

const TOKEN = 'T';
const CAMERA_FPS = 10;

let server;
let browser;
let camera;

// A room camera: sends `frames` in a loop at `fps`, as protocol v1 frame messages.
function startCamera(baseUrl, room, frames, fps) {
  const url = new URL(`/ws/rooms/${room}/camera?token=${TOKEN}`, baseUrl);
  url.protocol = 'ws:';
  const ws = new WebSocket(url);
  const camera = { ws, sent: 0, results: 0, timer: null };
  ws.on('open', () => {
    ws.send(JSON.stringify({ type: 'hello', protocol: 1, client: 'viewer-page test camera', results: 'binary' }));
    camera.timer = setInterval(() => {
      const jpeg = frames[camera.sent % frames.length];
      camera.sent += 1;
      const header = encodeFrameHeader({
        sequence: camera.sent, captureTsUs: Math.round(Date.now() * 1000), format: ImageFormat.JPEG,
        flags: 0, payloadLength: jpeg.length,
      });
      ws.send(Buffer.concat([Buffer.from(header), jpeg]));
    }, 1000 / fps);
  });
  ws.on('message', (data, binary) => {
    if (binary) camera.results += 1;
  });
  camera.stop = () => {
    clearInterval(camera.timer);
    ws.close();
  };
  return camera;
}

async function room(name) {
  const response = await fetch(new URL(`/rooms/${name}`, server.url));
  return response.ok ? response.json() : null;
}

before(async () => {
  needAll();
  mkdirSync(ARTIFACTS, { recursive: true });
  // The clip is under 2 s: all of it, at 20 frames a second, sent at 10 (and looped).
  const frames = jpegFrames(DANCE, { count: 40, fps: 20, width: 360 });
  assert.ok(frames.length >= 20, `${frames.length} frames cut from the clip`);
  server = await startServer(['--room-token', TOKEN]);
  browser = await launchChromium();
  camera = startCamera(server.url, 'r1', frames, CAMERA_FPS);
  await waitFor('the camera\'s first results', () => camera.results >= 3);
});

after(async () => {
  camera?.stop();
  await browser?.close();
  await server?.stop();
});

async function openViewer(query) {
  const page = await browser.newPage({ viewport: { width: 800, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${server.url}/viewer?${query}`);
  const counters = async () => {
    const s = await page.evaluate(() => window.liveposeViewer);
    if (s.errors.length > 0 || errors.length > 0) assert.fail(`page errors: ${[...s.errors, ...errors].join('; ')}`);
    return s;
  };
  return { page, counters };
}

// Overlay pixels painted on the page's canvas, and its size.
const canvasFigures = (page) => page.evaluate(() => {
  const canvas = document.getElementById('canvas');
  const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted += 1;
  return { painted, size: [canvas.width, canvas.height] };
});

test('the viewer page lists the room, draws its skeletons, reports its figures, and closing it ends the viewer', async () => {
  const { page, counters } = await openViewer('room=r1');
  await waitFor('20 drawn frames and 10 results with a pose', async () => {
    const s = await counters();
    return s.framesDrawn >= 20 && s.resultsWithPoses >= 10;
  });
  const s = await counters();
  const canvas = await canvasFigures(page);
  const listed = await page.evaluate(() => window.liveposeViewer.roomsListed);
  console.log('viewer skeletons:', JSON.stringify({
    results: s.results, withPoses: s.resultsWithPoses, framesDrawn: s.framesDrawn, lastBones: s.lastBones,
    latencyMs: Math.round(s.latencyMs), listed, ...canvas,
  }));
  assert.ok(s.lastBones >= 10, `${s.lastBones} bones in the last drawn frame`);
  assert.ok(canvas.painted >= 300, `${canvas.painted} canvas pixels painted`);
  assert.ok(listed?.some((r) => r.room === 'r1' && r.camera?.kind === 'socket'), 'GET /rooms lists r1 with its camera');
  assert.equal(await page.locator('#rooms').inputValue(), 'r1', 'the room picker shows r1');
  const figures = await waitFor('the page\'s viewer_stats in GET /rooms/r1', async () => {
    const r = await room('r1');
    return r?.viewer_list?.[0]?.fps > 0 && r;
  }, 15_000);
  console.log('GET /rooms/r1:', JSON.stringify({ viewers: figures.viewers, viewer_list: figures.viewer_list }));
  assert.equal(figures.viewers, 1);
  await page.screenshot({ path: path.join(ARTIFACTS, 'viewer-skeletons.png') });
  await page.close();
  await waitFor('the closed page\'s viewer to leave r1', async () => (await room('r1'))?.viewers === 0, 10_000);
});

test('frames=1: skeletons over the camera\'s frames', async () => {
  const { page, counters } = await openViewer('room=r1&frames=1');
  await waitFor('10 camera frames and 10 drawn frames', async () => {
    const s = await counters();
    return s.frames >= 10 && s.framesDrawn >= 10;
  });
  const s = await counters();
  const canvas = await canvasFigures(page);
  console.log('viewer frames=1:', JSON.stringify({ frames: s.frames, results: s.results, framesDrawn: s.framesDrawn, ...canvas }));
  assert.deepEqual(canvas.size, [360, 640], 'the canvas takes the camera frame\'s size');
  assert.ok(canvas.painted >= 0.9 * 360 * 640, 'the frame fills the canvas');
  await page.screenshot({ path: path.join(ARTIFACTS, 'viewer-frames.png') });
  await page.close();
});

test('frames=annotated: the server\'s annotated JPEGs in an <img>', async () => {
  const { page, counters } = await openViewer('room=r1&frames=annotated');
  await waitFor('10 annotated frames', async () => (await counters()).images >= 10);
  const shown = await page.evaluate(async () => {
    const img = document.getElementById('annotated');
    // A newer frame may replace the one being decoded (its decode then rejects and the new
    // one has no size yet): wait until a frame is shown.
    for (let i = 0; i < 100 && !(img.complete && img.naturalWidth > 0); i++) {
      await img.decode().catch(() => new Promise((resolve) => setTimeout(resolve, 20)));
    }
    return {
      src: img.src.slice(0, 5), size: [img.naturalWidth, img.naturalHeight], hidden: img.hidden,
      canvasHidden: document.getElementById('canvas').hidden, images: window.liveposeViewer.images,
    };
  });
  console.log('viewer annotated:', JSON.stringify(shown));
  assert.equal(shown.src, 'blob:');
  assert.deepEqual(shown.size, [360, 640]);
  assert.equal(shown.hidden, false);
  assert.equal(shown.canvasHidden, true);
  await page.screenshot({ path: path.join(ARTIFACTS, 'viewer-annotated.png') });
  await page.close();
});
