// What Chromium's WebCodecs VideoEncoder does on this machine, for docs/video.md: which
// configurations it supports (isConfigSupported), and, encoding real camera frames (the
// fake camera playing the lab dance clip at 640x480, 30 fps; camera.mjs) as PoseStream
// does (each new camera frame drawn on a canvas, `new VideoFrame(canvas)`, encode): the
// keyframes it makes on its own and on request, whether a keyframe carries SPS and PPS in
// band (Annex B), bytes out against the target bitrate (whole run and per second), what a
// bitrate change by `configure()` does, and the encode latency per frame (encode() to
// the chunk's output callback).
//
//   node bench/webcodecs.mjs [--seconds 10] [--json FILE]
//
// Needs ffmpeg, the clips (LIVEPOSE_MEDIA) and Chromium (CHROMIUM_PATH, default
// /usr/bin/chromium). The page is served from 127.0.0.1 (WebCodecs needs a secure context).
import { createServer } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { chromium } from 'playwright-core';

import { CHROMIUM, chromiumArgs, danceCamera, percentile } from './camera.mjs';

const { values: args } = parseArgs({
  options: { seconds: { type: 'string', default: '10' }, json: { type: 'string' } },
});
const SECONDS = Number(args.seconds);

// Configurations asked of isConfigSupported (640x480, 30 fps, 1 Mbit/s, realtime).
const PROBED = [
  'avc1.42001f', 'avc1.42e01f', 'avc1.4d401f', 'avc1.640028', 'vp8', 'vp09.00.10.08', 'av01.0.04M.08',
];

// The encoding runs: codec, target bitrate, latency mode, bitrate mode, forced keyframes
// (ms between two; 0: none asked), a bitrate change half way (`configure` again).
const RUNS = [
  { codec: 'avc1.42001f', bitrate: 1e6, latencyMode: 'realtime' },
  { codec: 'avc1.42001f', bitrate: 2e6, latencyMode: 'realtime' },
  { codec: 'avc1.42001f', bitrate: 500e3, latencyMode: 'realtime' },
  { codec: 'avc1.42001f', bitrate: 1e6, latencyMode: 'realtime', bitrateMode: 'constant' },
  { codec: 'avc1.42001f', bitrate: 1e6, latencyMode: 'realtime', keyEveryMs: 2000 },
  { codec: 'avc1.42001f', bitrate: 1e6, latencyMode: 'realtime', switchTo: 2e6 },
  { codec: 'avc1.640028', bitrate: 1e6, latencyMode: 'realtime' },
  { codec: 'avc1.42001f', bitrate: 1e6, latencyMode: 'quality' },
];

// Runs in the page: opens the camera and encodes for `seconds`; returns what it saw.
async function pageRun({ run, seconds, probed }) {
  const annexb = (codec) => (codec.startsWith('avc1') ? { avc: { format: 'annexb' } } : {});
  const base = { width: 640, height: 480, framerate: 30, bitrate: 1e6, latencyMode: 'realtime' };
  if (probed) {
    const out = {};
    for (const codec of probed) {
      for (const latencyMode of ['realtime', 'quality']) {
        try {
          const support = await VideoEncoder.isConfigSupported({ ...base, codec, latencyMode, ...annexb(codec) });
          out[`${codec} ${latencyMode}`] = { supported: support.supported, avc: support.config?.avc ?? null };
        } catch (e) {
          out[`${codec} ${latencyMode}`] = { supported: false, error: String(e) };
        }
      }
    }
    return out;
  }
  const media = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480, frameRate: 30 } });
  const video = document.createElement('video');
  video.muted = true;
  video.srcObject = media;
  await video.play();
  const canvas = document.createElement('canvas');
  canvas.width = 640;
  canvas.height = 480;
  const ctx = canvas.getContext('2d');
  const calls = new Map();
  const chunks = [];
  const errors = [];
  let maxQueue = 0;
  const config = {
    ...base, codec: run.codec, bitrate: run.bitrate, latencyMode: run.latencyMode, ...annexb(run.codec),
    ...(run.bitrateMode ? { bitrateMode: run.bitrateMode } : {}),
  };
  const encoder = new VideoEncoder({
    output: (chunk, meta) => {
      const at = performance.now();
      const bytes = new Uint8Array(chunk.byteLength);
      chunk.copyTo(bytes);
      // NAL unit types in the Annex B stream (start codes 00 00 01 / 00 00 00 01).
      const nals = [];
      let sps = null;
      for (let i = 0; i + 3 < bytes.length; i++) {
        if (bytes[i] === 0 && bytes[i + 1] === 0 && bytes[i + 2] === 1) {
          const type = bytes[i + 3] & 0x1f;
          nals.push(type);
          // profile_idc, constraint flags, level_idc: what the stream really is.
          if (type === 7 && i + 6 < bytes.length) sps = [bytes[i + 4], bytes[i + 5], bytes[i + 6]];
          i += 3;
        }
      }
      const call = calls.get(chunk.timestamp);
      chunks.push({
        ts: chunk.timestamp, type: chunk.type, bytes: chunk.byteLength, nals, sps, annexb: bytes[0] === 0 && bytes[1] === 0,
        encodeMs: call === undefined ? null : at - call.at, asked: call?.key ?? false, atMs: at,
        decoderConfig: meta?.decoderConfig ? { codec: meta.decoderConfig.codec, description: !!meta.decoderConfig.description } : null,
      });
      calls.delete(chunk.timestamp);
    },
    error: (e) => errors.push(String(e)),
  });
  encoder.configure(config);
  const start = performance.now();
  let lastKeyAsk = start;
  let switched = false;
  let frames = 0;
  await new Promise((resolve) => {
    const onFrame = (now) => {
      if (now - start >= seconds * 1000) {
        resolve();
        return;
      }
      ctx.drawImage(video, 0, 0, 640, 480);
      const timestamp = Math.round(now * 1000);
      const frame = new VideoFrame(canvas, { timestamp });
      let key = false;
      if (run.keyEveryMs && now - lastKeyAsk >= run.keyEveryMs) {
        key = true;
        lastKeyAsk = now;
      }
      if (run.switchTo && !switched && now - start >= (seconds * 1000) / 2) {
        switched = true;
        encoder.configure({ ...config, bitrate: run.switchTo });
        chunks.push({ marker: 'switch', atMs: performance.now() });
      }
      calls.set(timestamp, { at: performance.now(), key });
      encoder.encode(frame, { keyFrame: key });
      frame.close();
      frames += 1;
      maxQueue = Math.max(maxQueue, encoder.encodeQueueSize);
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  });
  await encoder.flush();
  encoder.close();
  media.getTracks().forEach((t) => t.stop());
  return { frames, chunks, errors, maxQueue, seconds: (performance.now() - start) / 1000 };
}

function summarise(run, seen) {
  const chunks = seen.chunks.filter((c) => !c.marker);
  const switchAt = seen.chunks.findIndex((c) => c.marker === 'switch');
  const keys = chunks.map((c, i) => (c.type === 'key' ? i : -1)).filter((i) => i >= 0);
  const unasked = keys.filter((i) => !chunks[i].asked && i > 0);
  const intervals = keys.slice(1).map((k, j) => k - keys[j]);
  const durationS = (chunks.at(-1).ts - chunks[0].ts) / 1e6;
  const bits = chunks.reduce((sum, c) => sum + 8 * c.bytes, 0);
  // Per second of capture time.
  const perSecond = new Map();
  for (const c of chunks) {
    const s = Math.floor((c.ts - chunks[0].ts) / 1e6);
    perSecond.set(s, (perSecond.get(s) ?? 0) + 8 * c.bytes);
  }
  const whole = [...perSecond.entries()].filter(([s]) => s < Math.floor(durationS)).map(([, b]) => b);
  const latencies = chunks.map((c) => c.encodeMs).filter((v) => v !== null);
  const keyBytes = chunks.filter((c) => c.type === 'key').map((c) => c.bytes);
  const deltaBytes = chunks.filter((c) => c.type !== 'key').map((c) => c.bytes);
  let afterSwitch = null;
  if (switchAt >= 0) {
    const first = seen.chunks.slice(switchAt + 1).find((c) => !c.marker);
    const before = seen.chunks.slice(0, switchAt).filter((c) => !c.marker);
    const after = seen.chunks.slice(switchAt + 1).filter((c) => !c.marker);
    const rate = (list) => (list.length < 2 ? NaN
      : (list.reduce((s, c) => s + 8 * c.bytes, 0) / ((list.at(-1).ts - list[0].ts) / 1e6)));
    afterSwitch = {
      firstChunkType: first?.type, bitrateBefore: rate(before), bitrateAfter: rate(after.slice(15)),
    };
  }
  return {
    run: `${run.codec} ${run.latencyMode}${run.bitrateMode ? ` ${run.bitrateMode}` : ''} ${run.bitrate / 1e6} Mbit/s`
      + `${run.keyEveryMs ? `, key asked every ${run.keyEveryMs} ms` : ''}${run.switchTo ? ` -> ${run.switchTo / 1e6} Mbit/s` : ''}`,
    frames: seen.frames,
    chunks: chunks.length,
    fps: chunks.length / durationS,
    keyframes: keys.length,
    keyframesUnasked: unasked.length,
    keyIntervalFrames: intervals,
    keyframesAsked: chunks.filter((c) => c.asked).length,
    askedHonoured: chunks.filter((c) => c.asked).every((c) => c.type === 'key'),
    keyHasSpsPps: chunks.filter((c) => c.type === 'key').every((c) => c.nals.includes(7) && c.nals.includes(8)),
    annexb: chunks.every((c) => c.annexb),
    nalTypes: [...new Set(chunks.flatMap((c) => c.nals))].sort((a, b) => a - b),
    sps: chunks.find((c) => c.sps)?.sps ?? null,
    decoderConfig: chunks.find((c) => c.decoderConfig)?.decoderConfig ?? null,
    bitrate: bits / durationS,
    bitrateRatio: bits / durationS / run.bitrate,
    perSecondMin: Math.min(...whole) / run.bitrate,
    perSecondMax: Math.max(...whole) / run.bitrate,
    firstSecondRatio: (perSecond.get(0) ?? 0) / run.bitrate,
    keyBytesMedian: percentile(keyBytes, 0.5),
    deltaBytesMedian: percentile(deltaBytes, 0.5),
    deltaBytesP95: percentile(deltaBytes, 0.95),
    encodeMsP50: percentile(latencies, 0.5),
    encodeMsP95: percentile(latencies, 0.95),
    encodeMsMax: Math.max(...latencies),
    maxQueue: seen.maxQueue,
    afterSwitch,
    errors: seen.errors,
  };
}

const work = mkdtempSync(path.join(tmpdir(), 'livepose-webcodecs-'));
const camera = danceCamera(path.join(work, 'camera.y4m'));
const server = createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/html' });
  res.end('<!doctype html><title>webcodecs probe</title>');
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const browser = await chromium.launch({ executablePath: CHROMIUM, args: chromiumArgs(camera) });
try {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error('page error:', e));
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  const version = browser.version();
  const support = await page.evaluate(pageRun, { run: null, seconds: 0, probed: PROBED });
  console.log(`Chromium ${version}, headless, --disable-gpu (software encoders)\n`);
  console.log('isConfigSupported, 640x480, 30 fps, 1 Mbit/s (avc: {format: "annexb"}):');
  for (const [config, s] of Object.entries(support)) {
    console.log(`  ${config.padEnd(28)} ${s.supported ? 'yes' : 'no'}${s.avc ? ` avc=${JSON.stringify(s.avc)}` : ''}${s.error ? ` (${s.error})` : ''}`);
  }
  const results = [];
  for (const run of RUNS) {
    const seen = await page.evaluate(pageRun, { run, seconds: SECONDS, probed: null });
    const s = summarise(run, seen);
    results.push(s);
    console.log(`\n${s.run}: ${s.frames} frames in, ${s.chunks} chunks, ${s.fps.toFixed(1)} fps${s.errors.length ? `, errors: ${s.errors.join('; ')}` : ''}`);
    console.log(`  keyframes: ${s.keyframes} (${s.keyframesUnasked} not asked for after the first; intervals ${JSON.stringify(s.keyIntervalFrames)} frames);`
      + ` asked ${s.keyframesAsked}, honoured: ${s.askedHonoured}; SPS+PPS in every keyframe: ${s.keyHasSpsPps}; Annex B: ${s.annexb}; NAL types ${JSON.stringify(s.nalTypes)}`);
    if (s.sps) console.log(`  SPS: profile_idc ${s.sps[0]}, constraint flags 0x${s.sps[1].toString(16)}, level_idc ${s.sps[2]}`);
    console.log(`  bitrate: ${(s.bitrate / 1e6).toFixed(3)} Mbit/s = ${s.bitrateRatio.toFixed(2)} x target; per second ${s.perSecondMin.toFixed(2)}..${s.perSecondMax.toFixed(2)} x; first second ${s.firstSecondRatio.toFixed(2)} x`);
    console.log(`  sizes: keyframe ${s.keyBytesMedian} B, delta median ${s.deltaBytesMedian} B, p95 ${s.deltaBytesP95} B`);
    console.log(`  encode latency: p50 ${s.encodeMsP50.toFixed(1)} ms, p95 ${s.encodeMsP95.toFixed(1)} ms, max ${s.encodeMsMax.toFixed(1)} ms; queue max ${s.maxQueue}`);
    if (s.afterSwitch) {
      console.log(`  configure() with a new bitrate: next chunk ${s.afterSwitch.firstChunkType}; ${(s.afterSwitch.bitrateBefore / 1e6).toFixed(2)} -> ${(s.afterSwitch.bitrateAfter / 1e6).toFixed(2)} Mbit/s`);
    }
  }
  if (args.json) writeFileSync(args.json, JSON.stringify({ version, support, results }, null, 2));
} finally {
  await browser.close();
  server.close();
  rmSync(work, { recursive: true, force: true });
}
