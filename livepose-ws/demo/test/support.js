// What the browser and server tests share: where the command, the clips, the models and
// Chromium are, clips cut by ffmpeg, the real server (`livepose serve`) started and
// stopped, Chromium with a fake camera, and polling until a condition holds.
//
// Clips in $LIVEPOSE_MEDIA, else $LIVEPOSE_SHARED/media, else ~/.cache/livepose/media
// (scripts/fetch-media.sh); models in $LIVEPOSE_MODELS, else $LIVEPOSE_SHARED/models, else
// ~/.cache/livepose/models (scripts/fetch-models.sh); target/debug/livepose (or
// LIVEPOSE_BIN); /usr/bin/chromium (or CHROMIUM_PATH). A missing one fails the test with
// its name ({@link need}), nothing is skipped.
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { homedir } from 'node:os';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

import { chromium } from 'playwright-core';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, '../../..');
const dataDir = (variable, name) => process.env[variable]
  || (process.env.LIVEPOSE_SHARED && path.join(process.env.LIVEPOSE_SHARED, name))
  || path.join(process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache'), 'livepose', name);
export const MEDIA = dataDir('LIVEPOSE_MEDIA', 'media');
export const MODELS = dataDir('LIVEPOSE_MODELS', 'models');
export const LIVEPOSE = process.env.LIVEPOSE_BIN ?? path.join(ROOT, 'target/debug/livepose');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const ARTIFACTS = process.env.LIVEPOSE_ARTIFACTS ?? path.join(ROOT, 'target/artifacts');
export const WAIT_MS = 120_000;
export const DANCE = 'lab_dance_1080x1920_60fps.mp4';

/** Fails with `what` when `file` is missing. */
export function need(file, what) {
  assert.ok(existsSync(file), `${what} not found at ${file}`);
}

/** Checks the command, the dance clip, the models (and Chromium unless `browser: false`). */
export function needAll({ browser = true } = {}) {
  need(LIVEPOSE, 'the livepose command (cargo build --bin livepose)');
  need(path.join(MEDIA, DANCE), 'the dance clip (bash scripts/fetch-media.sh)');
  need(path.join(MODELS, 'pose_landmark_lite.onnx'), 'the models (bash scripts/fetch-models.sh)');
  if (browser) need(CHROMIUM, 'Chromium (apt-get install chromium)');
}

/** The first `seconds` of shared clip `name`, re-encoded by ffmpeg with `args` into `out`. */
export function clip(name, out, seconds, args) {
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', path.join(MEDIA, name), '-t', String(seconds), ...args, out]);
  return out;
}

/** `count` JPEG frames of shared clip `name` from `seconds`, `width` wide, as Buffers. */
export function jpegFrames(name, { seconds = 0, count = 30, fps = 30, width = 360 } = {}) {
  const out = execFileSync('ffmpeg', [
    '-v', 'error', '-ss', String(seconds), '-i', path.join(MEDIA, name),
    '-vf', `fps=${fps},scale=${width}:-2`, '-frames:v', String(count), '-q:v', '5',
    '-f', 'image2pipe', '-c:v', 'mjpeg', '-',
  ], { maxBuffer: 256 << 20 });
  // Split the stream at each JPEG's start of image (FF D8 FF) after an end of image (FF D9).
  const frames = [];
  let start = 0;
  for (let i = 2; i + 2 < out.length; i++) {
    if (out[i - 2] === 0xff && out[i - 1] === 0xd9 && out[i] === 0xff && out[i + 1] === 0xd8 && out[i + 2] === 0xff) {
      frames.push(out.subarray(start, i));
      start = i;
    }
  }
  frames.push(out.subarray(start));
  return frames;
}

/**
 * Starts `livepose serve` on `port` (0: any free one) with the models and `args`; resolves
 * once it printed its address: `{child, url, port, stop()}` (`url`: http://ADDR).
 */
export async function startServer(args = [], { port = 0 } = {}) {
  const child = spawn(LIVEPOSE, ['serve', '--port', String(port), '--models', MODELS, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'warn' },
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const lines = createInterface({ input: child.stdout });
  for await (const line of lines) {
    const address = line.match(/^livepose: ws:\/\/(\S+)\/ws/);
    if (address) {
      lines.on('line', () => {});
      const url = `http://${address[1]}`;
      return {
        child,
        url,
        port: Number(new URL(url).port),
        /** SIGINT, and waits for the process to exit (the port is free after). */
        async stop() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
          await exited;
        },
      };
    }
  }
  throw new Error('serve exited without printing its address');
}

/** Polls `check` every 100 ms until it returns something truthy (returned); fails after `timeoutMs`. */
export async function waitFor(what, check, timeoutMs = WAIT_MS) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Headless Chromium; with `camera` (a .y4m file), its fake camera plays that file in a
 * loop; `args`: more command-line flags.
 */
export function launchChromium({ camera, args: more = [] } = {}) {
  const args = [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync', ...more,
  ];
  if (camera) {
    args.push('--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
      `--use-file-for-fake-video-capture=${camera}`);
  }
  return chromium.launch({ executablePath: CHROMIUM, args });
}

/** The server's open streams (`GET /streams`). */
export async function streams(baseUrl) {
  const response = await fetch(new URL('/streams', baseUrl));
  return (await response.json()).streams ?? [];
}
