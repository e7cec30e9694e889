// The uplink bench (docs/video.md): the demo page in headless Chromium, its fake camera
// playing the lab dance clip at 640x480 and 30 fps (camera.mjs), streaming to a real
// `livepose serve` over a loopback whose rate `tc tbf` limits, for each uplink rate and
// each way of sending:
//   jpeg        JPEG frames, quality 0.8, no adaptation (`?adapt=0&codec=jpeg`)
//   jpeg-adapt  JPEG frames with adaptive quality and rate (`?codec=jpeg`)
//   h264        H.264 frames from WebCodecs, adaptive bitrate (`?codec=h264`); only against
//               a server whose `welcome` lists `h264` (otherwise the row says so)
// Each case is a fresh page (a fresh connection): `--warmup` seconds, then `--seconds`
// measured: results a second, and glass-to-result latency (the page's capture time of the
// frame to the result's arrival in the page, both on the page's clock) p50 and p95, the
// frames sent a second and the uplink used (bytes of frames sent).
//
// Run it through scripts/uplink.sh, which makes the network namespace (this script changes
// the loopback's qdisc and refuses to run outside one). Needs target/release/livepose (or
// LIVEPOSE_BIN), the models and clips (LIVEPOSE_MODELS, LIVEPOSE_MEDIA), ffmpeg, Chromium,
// and `tc` (iproute2).
//
//   scripts/uplink.sh [--rates 100,8,4,2] [--modes jpeg,jpeg-adapt,h264] [--seconds 20]
//                     [--warmup 10] [--repeat 1] [--json FILE]
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { chromium } from 'playwright-core';

import { CHROMIUM, chromiumArgs, danceCamera, MODELS, percentile } from './camera.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const { values: args } = parseArgs({
  options: {
    rates: { type: 'string', default: '100,8,4,2' },
    modes: { type: 'string', default: 'jpeg,jpeg-adapt,h264' },
    seconds: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '10' },
    repeat: { type: 'string', default: '1' },
    json: { type: 'string' },
  },
});
const RATES = args.rates.split(',').map(Number);
const MODES = args.modes.split(',');
const SECONDS = Number(args.seconds);
const WARMUP = Number(args.warmup);
const REPEAT = Number(args.repeat);
const LIVEPOSE = process.env.LIVEPOSE_BIN ?? path.join(ROOT, 'target/release/livepose');
const PAGE = {
  jpeg: '?adapt=0&codec=jpeg',
  'jpeg-adapt': '?codec=jpeg',
  h264: '?codec=h264',
};
for (const mode of MODES) if (!(mode in PAGE)) throw new Error(`unknown mode ${mode} (${Object.keys(PAGE)})`);

if (!process.env.LIVEPOSE_IN_NETNS) {
  throw new Error('run through scripts/uplink.sh: it makes the network namespace whose loopback this shapes');
}

/** Limits the loopback (both ways) to `mbps` Mbit/s with a token bucket. */
function shape(mbps) {
  execFileSync('tc', ['qdisc', 'replace', 'dev', 'lo', 'root', 'tbf', 'rate', `${mbps}mbit`,
    'burst', '64kb', 'latency', '500ms']);
  return execFileSync('tc', ['qdisc', 'show', 'dev', 'lo'], { encoding: 'utf8' }).trim();
}

async function startServer() {
  const child = spawn(LIVEPOSE, ['serve', '--host', '127.0.0.1', '--port', '0', '--models', MODELS], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'warn' },
  });
  for await (const line of createInterface({ input: child.stdout })) {
    const m = line.match(/^livepose: ws:\/\/(\S+)\/ws/);
    if (m) return { child, url: `http://${m[1]}` };
  }
  throw new Error('serve exited without printing its address');
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** One case: a fresh page, warm-up, then the measured window. */
async function runCase(browser, url, mode) {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${url}/${PAGE[mode]}`);
  await page.click('#camera');
  await sleep(WARMUP * 1000);
  const read = () => page.evaluate(() => {
    const s = window.liveposeDemo;
    return {
      nowMs: performance.now(), sent: s.sent, bytes: s.bytesSent, codec: s.codec, bitrate: s.bitrate,
      quality: s.quality, targetFps: s.targetFps, errors: s.errors.slice(-5), log: s.resultLog.slice(-2000),
      keyframesRequested: s.keyframesRequested, connection: s.connection,
    };
  });
  const start = await read();
  await sleep(SECONDS * 1000);
  const end = await read();
  await page.close();
  const window = end.log.filter(([at]) => at > start.nowMs && at <= end.nowMs);
  const latencies = window.map(([, ms]) => ms);
  const seconds = (end.nowMs - start.nowMs) / 1000;
  return {
    mode,
    codec: end.codec,
    resultsPerS: window.length / seconds,
    p50: percentile(latencies, 0.5),
    p95: percentile(latencies, 0.95),
    sentPerS: (end.sent - start.sent) / seconds,
    uplinkMbps: ((end.bytes - start.bytes) * 8) / seconds / 1e6,
    quality: end.quality,
    bitrate: end.bitrate,
    targetFps: end.targetFps,
    errors: [...errors, ...end.errors],
    keyframesRequested: end.keyframesRequested,
  };
}

const fmt = (v, digits = 0) => (Number.isFinite(v) ? v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '-');

const work = mkdtempSync(path.join(tmpdir(), 'livepose-uplink-'));
const camera = danceCamera(path.join(work, 'camera.y4m'));
shape(1000);
const server = await startServer();
const browser = await chromium.launch({ executablePath: CHROMIUM, args: chromiumArgs(camera) });
const rows = [];
try {
  // Does the server decode H.264? Its welcome says.
  const probe = await browser.newPage();
  await probe.goto(server.url);
  const formats = await probe.evaluate((url) => new Promise((resolve) => {
    const ws = new WebSocket(url.replace('http', 'ws') + '/ws');
    ws.onopen = () => ws.send(JSON.stringify({ type: 'hello', protocol: 1 }));
    ws.onmessage = (e) => {
      const msg = JSON.parse(e.data);
      if (msg.type === 'welcome') {
        ws.close();
        resolve(msg.formats ?? null);
      }
    };
    ws.onerror = () => resolve(null);
  }), server.url);
  await probe.close();
  const decodesH264 = Array.isArray(formats) && formats.includes('h264');
  console.log(`server ${LIVEPOSE}: formats ${JSON.stringify(formats)}; Chromium ${browser.version()}`);
  for (const mbps of RATES) {
    console.log(`== uplink ${mbps} Mbit/s: ${shape(mbps)}`);
    for (let r = 0; r < REPEAT; r++) {
      for (const mode of MODES) {
        if (mode === 'h264' && !decodesH264) {
          rows.push({ mbps, mode, skipped: 'the server does not decode H.264 (no h264 in welcome.formats)' });
          console.log(`   ${mode}: skipped, the server does not decode H.264`);
          continue;
        }
        const row = { mbps, ...(await runCase(browser, server.url, mode)) };
        rows.push(row);
        console.log(`   ${mode} (${row.codec}): ${fmt(row.resultsPerS, 1)} results/s, p50 ${fmt(row.p50)} ms, p95 ${fmt(row.p95)} ms;`
          + ` sent ${fmt(row.sentPerS, 1)} fps, ${fmt(row.uplinkMbps, 2)} Mbit/s`
          + `${row.mode === 'h264' ? `, bitrate ${fmt(row.bitrate / 1e6, 2)} Mbit/s` : `, quality ${fmt(row.quality, 2)}`}`
          + `${row.errors.length ? `; errors: ${row.errors.join(' | ')}` : ''}`);
      }
    }
  }
} finally {
  await browser.close();
  server.child.kill('SIGINT');
  rmSync(work, { recursive: true, force: true });
}

console.log('\n| uplink | sending | results/s | glass-to-result p50 | p95 | frames sent/s | uplink used |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const row of rows) {
  if (row.skipped) {
    console.log(`| ${row.mbps} Mbit/s | ${row.mode} | ${row.skipped} | | | | |`);
    continue;
  }
  console.log(`| ${row.mbps} Mbit/s | ${row.mode} | ${fmt(row.resultsPerS, 1)} | ${fmt(row.p50)} ms | ${fmt(row.p95)} ms`
    + ` | ${fmt(row.sentPerS, 1)} | ${fmt(row.uplinkMbps, 2)} Mbit/s |`);
}
if (args.json) {
  mkdirSync(path.dirname(path.resolve(args.json)), { recursive: true });
  writeFileSync(args.json, JSON.stringify({ rows, seconds: SECONDS, warmup: WARMUP }, null, 2));
}
