// Socket.IO against /ws, in one run on one server: the same real frame (JPEG, 480x640, a
// dancer from the lab clip) over three routes a front end can take:
//   sio-json    socket.io-client, `frame` {image: data URL}, JSON `pose_data` back (what
//               Flask-SocketIO front ends send: no client change);
//   sio-binary  socket.io-client, `frame` {image: <Buffer>}, protocol v1 results as
//               binary attachments (`auth: {results: 'binary'}`);
//   ws-json     a plain WebSocket on /ws, the same JSON+base64 frames, JSON results;
//   ws-v1       a plain WebSocket on /ws, protocol v1 frames and results.
// Two loads, each with fresh connections and repeated:
//   closed  one connection sends a frame, waits for its result, sends the next;
//   paced   N connections each send at F fps on a fixed schedule whatever comes back
//           (open loop, as a camera does); latency is result arrival minus send time.
// Prints per-connection figures (results/s, latency p50/p95) and the server's CPU.
//
//   node bench/transports.mjs [--seconds 8] [--repeat 3] [--connections 16] [--fps 30]
// Needs target/release/livepose (or LIVEPOSE_BIN), the models (LIVEPOSE_MODELS) and clips
// (LIVEPOSE_MEDIA) as the tests do, and ffmpeg. With LIVEPOSE_BASELINE_PYTHON (a Python with
// flask-socketio, simple-websocket, opencv-python-headless, mediapipe==0.10.14) it also measures the
// Flask-SocketIO + MediaPipe server livepose replaces (bench/baseline_flask_socketio.py),
// with the sio-json client, in the same run.
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { homedir } from 'node:os';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { io } from 'socket.io-client';
import WebSocket from 'ws';

import { encodeFrame } from '../js/protocol.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const dataDir = (variable, name) => process.env[variable]
  || (process.env.LIVEPOSE_SHARED && path.join(process.env.LIVEPOSE_SHARED, name))
  || path.join(process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache'), 'livepose', name);
const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '8' },
    repeat: { type: 'string', default: '3' },
    connections: { type: 'string', default: '16' },
    fps: { type: 'string', default: '30' },
  },
});
const SECONDS = Number(args.seconds);
const REPEAT = Number(args.repeat);
const CONNECTIONS = Number(args.connections);
const FPS = Number(args.fps);
const LIVEPOSE = process.env.LIVEPOSE_BIN ?? path.join(ROOT, 'target/release/livepose');

const jpeg = execFileSync('ffmpeg', ['-v', 'error', '-i', path.join(dataDir('LIVEPOSE_MEDIA', 'media'), 'lab_dance_1080x1920_60fps.mp4'),
  '-vf', 'select=eq(n\\,30),scale=480:640', '-frames:v', '1', '-f', 'image2pipe', '-c:v', 'mjpeg', '-q:v', '3', '-']);
const dataUrl = `data:image/jpeg;base64,${jpeg.toString('base64')}`;

async function startServer(...extra) {
  const child = spawn(LIVEPOSE, ['serve', '--port', '0', '--no-demo', '--max-fps', '1000',
    '--models', dataDir('LIVEPOSE_MODELS', 'models'), ...extra], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'warn' } });
  for await (const line of createInterface({ input: child.stdout })) {
    const m = line.match(/ws:\/\/(\S+)\/ws/);
    if (m) return { child, addr: m[1] };
  }
  throw new Error('serve exited without printing its address');
}

/**
 * The Python server livepose replaces (bench/baseline_flask_socketio.py), if
 * LIVEPOSE_BASELINE_PYTHON names a Python with flask-socketio and mediapipe; else null.
 */
async function startBaseline() {
  const python = process.env.LIVEPOSE_BASELINE_PYTHON;
  if (!python) return null;
  const port = 20000 + Math.floor(Math.random() * 20000);
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'baseline_flask_socketio.py');
  const child = spawn(python, [script, String(port), dataDir('LIVEPOSE_MODELS', 'models')], { stdio: ['ignore', 'pipe', 'ignore'] });
  for await (const line of createInterface({ input: child.stdout })) {
    if (line.startsWith('baseline:')) break;
  }
  // Werkzeug prints its banner once it listens; give it a moment and check with a poll.
  for (let i = 0; i < 100; i += 1) {
    try {
      await fetch(`http://127.0.0.1:${port}/socket.io/?EIO=4&transport=polling`);
      return { child, addr: `127.0.0.1:${port}` };
    } catch {
      await sleep(100);
    }
  }
  throw new Error('the baseline server did not start');
}

/** CPU seconds the process has used (user + system), from /proc. */
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** A connected client of `route`: `send(sequence)`, and `onResult(sequence)` called back. */
function connect(route, addr, onResult) {
  return new Promise((resolve, reject) => {
    if (route === 'ws-v1' || route === 'ws-json') {
      const ws = new WebSocket(`ws://${addr}/ws`);
      ws.binaryType = 'nodebuffer';
      ws.on('message', (data, isBinary) => {
        if (isBinary && data[5] === 2) onResult(Number(data.readBigUInt64LE(8)));
        if (!isBinary) {
          const message = JSON.parse(data);
          if (message.type === undefined) onResult(message.sequence);
        }
      });
      ws.on('open', () => resolve({
        send: route === 'ws-v1'
          ? (sequence) => ws.send(encodeFrame({ sequence, captureTsUs: 0 }, jpeg))
          : (sequence) => ws.send(JSON.stringify({ image: dataUrl, sequence })),
        close: () => ws.close(),
      }));
      ws.on('error', reject);
      return;
    }
    const binary = route === 'sio-binary';
    const socket = io(`http://${addr}`, { transports: ['websocket'], auth: binary ? { results: 'binary' } : {} });
    socket.on('pose_data', (data) => onResult(binary ? Number(Buffer.from(data).readBigUInt64LE(8)) : data.sequence));
    socket.on('connect', () => resolve({
      send: (sequence) => socket.emit('frame', binary ? { image: jpeg, sequence } : { image: dataUrl, sequence }),
      close: () => socket.close(),
    }));
    socket.on('connect_error', reject);
  });
}

const percentile = (sorted, p) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** One connection, send, wait, send: results/s and latencies. */
async function closedLoop(route, addr) {
  const latencies = [];
  let waiting = null;
  const client = await connect(route, addr, (sequence) => waiting?.(sequence));
  const end = performance.now() + SECONDS * 1000;
  let sequence = 0;
  while (performance.now() < end) {
    sequence += 1;
    const sent = performance.now();
    const want = sequence;
    await new Promise((resolve) => {
      waiting = (got) => { if (got === want) resolve(); };
      client.send(want);
    });
    latencies.push(performance.now() - sent);
  }
  client.close();
  return { fps: latencies.length / SECONDS, latencies };
}

/** N connections each sending at FPS on a fixed schedule: per-connection figures. */
async function paced(route, addr) {
  const clients = await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
    const state = { sentAt: new Map(), latencies: [], client: null };
    state.client = await connect(route, addr, (sequence) => {
      const sent = state.sentAt.get(sequence);
      if (sent !== undefined) state.latencies.push(performance.now() - sent);
    });
    return state;
  }));
  const start = performance.now();
  const frames = Math.floor(SECONDS * FPS);
  await Promise.all(clients.map(async (c, i) => {
    // Each connection starts at its own offset inside the first frame interval.
    for (let n = 0; n < frames; n += 1) {
      const due = start + (i / clients.length + n) * (1000 / FPS);
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      c.sentAt.set(n + 1, performance.now());
      c.client.send(n + 1);
    }
  }));
  await sleep(500);
  clients.forEach((c) => c.client.close());
  return clients.map((c) => {
    const sorted = [...c.latencies].sort((a, b) => a - b);
    return { fps: c.latencies.length / SECONDS, p50: percentile(sorted, 0.5), p95: percentile(sorted, 0.95) };
  });
}

const fmt = (x) => (Number.isFinite(x) ? x.toFixed(1) : '-');
const { child, addr } = await startServer();
console.log(`server ${addr}; frame ${jpeg.length} bytes (${dataUrl.length} as a data URL); ${SECONDS} s per run, ${REPEAT} runs`);
const routes = ['sio-json', 'sio-binary', 'ws-json', 'ws-v1'];

/** Closed-loop runs of `route` on `server`: one table row. */
async function closedRow(route, server, label = route) {
  const runs = [];
  let cpu = 0;
  let results = 0;
  for (let r = 0; r < REPEAT; r += 1) {
    const before = cpuSeconds(server.child.pid);
    const run = await closedLoop(route, server.addr);
    cpu += cpuSeconds(server.child.pid) - before;
    results += run.latencies.length;
    runs.push(run);
  }
  const all = runs.flatMap((r) => r.latencies).sort((a, b) => a - b);
  console.log(`| ${label} | ${runs.map((r) => fmt(r.fps)).join(', ')} | ${fmt(percentile(all, 0.5))} / ${fmt(percentile(all, 0.95))} | ${fmt((cpu * 1000) / results)} |`);
}

console.log('\n| route | closed loop: results/s (runs) | latency p50 / p95 ms | server CPU ms per result |');
console.log('| --- | --- | --- | --- |');
for (const route of routes) await closedRow(route, { child, addr });
const baseline = await startBaseline();
if (baseline) await closedRow('sio-json', baseline, 'before: Flask-SocketIO + MediaPipe Pose (Python)');
// What serving Socket.IO costs /ws: the same route on a server without it.
const plain = await startServer('--socketio', 'false');
await closedRow('ws-v1', plain, 'ws-v1, server with --socketio false');
plain.child.kill('SIGINT');
console.log(`\n| route | ${CONNECTIONS} x ${FPS} fps: results/s per connection, min / median / max | latency p50 per connection, median / worst ms | p95 worst ms | server CPU % |`);
console.log('| --- | --- | --- | --- | --- |');
/** Paced runs of `route` on `server`: one table row per run. */
async function pacedRows(route, server, label = route) {
  for (let r = 0; r < REPEAT; r += 1) {
    const before = cpuSeconds(server.child.pid);
    const t0 = performance.now();
    const conns = await paced(route, server.addr);
    const cpuPercent = ((cpuSeconds(server.child.pid) - before) / ((performance.now() - t0) / 1000)) * 100;
    const fps = conns.map((c) => c.fps).sort((a, b) => a - b);
    const p50 = conns.map((c) => c.p50).sort((a, b) => a - b);
    const p95 = Math.max(...conns.map((c) => c.p95));
    console.log(`| ${label} (run ${r + 1}) | ${fmt(fps[0])} / ${fmt(percentile(fps, 0.5))} / ${fmt(fps[fps.length - 1])} | ${fmt(percentile(p50, 0.5))} / ${fmt(p50[p50.length - 1])} | ${fmt(p95)} | ${fmt(cpuPercent)} |`);
  }
}

for (const route of routes) await pacedRows(route, { child, addr });
if (baseline) {
  await pacedRows('sio-json', baseline, 'before: Flask-SocketIO + MediaPipe Pose');
  baseline.child.kill('SIGKILL');
}
child.kill('SIGINT');
