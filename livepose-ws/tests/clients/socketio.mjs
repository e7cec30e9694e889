// The real Socket.IO client (socket.io-client, from livepose-ws/demo's node_modules, as
// front ends use it) driven by the Rust hardening tests (livepose-ws/tests/support/
// hardening.rs, node_socketio). Prints one line of JSON: what happened.
//
//   node socketio.mjs URL churn N TRANSPORT - IMAGE
//     N connections that leave at every point: before the connect ack, at the ack, right
//     after a `frame`, right after a `join`. {"connected", "refused"}.
//   node socketio.mjs URL answers N TRANSPORT EVENT IMAGE
//     N connections that send EVENT (`frame`, `config` or `join`) the moment they are
//     connected and wait for its answer (a result, a second `welcome`, the `unauthorized`
//     error of a join with a wrong token). {"tries", "answered", "refused", "unanswered"}.
//
// TRANSPORT: `websocket` or `polling`. IMAGE: the data URL a `frame` carries.
import { createRequire } from 'node:module';
import path from 'node:path';

const demo = process.env.LIVEPOSE_DEMO_DIR;
const { io } = createRequire(path.join(demo, 'package.json'))('socket.io-client');

const [url, mode, count, transport, arg, image] = process.argv.slice(2);
const n = Number(count);
// Connections in flight at once.
const PARALLEL = Number(process.env.LIVEPOSE_SIO_PARALLEL ?? 4);
// Longest wait for an answer that must come (generous: a busy CI machine).
const WAIT_MS = 15_000;

function open() {
  return io(url, { transports: [transport], forceNew: true, reconnection: false, timeout: WAIT_MS });
}

function settle(socket, resolve, value) {
  socket.removeAllListeners();
  socket.disconnect();
  resolve(value);
}

// One connection of the churn: leaves at point `i % 4`.
function churnOne(i) {
  return new Promise((resolve) => {
    const socket = open();
    const point = i % 4;
    const done = (value) => settle(socket, resolve, value);
    socket.on('connect_error', () => done('refused'));
    if (point === 0) {
      setImmediate(() => done('left'));
      return;
    }
    socket.on('connect', () => {
      if (point === 2) socket.emit('frame', { image, sequence: i });
      if (point === 3) socket.emit('join', { room: `churn${i % 3}`, role: 'viewer' });
      done('connected');
    });
    setTimeout(() => done('timeout'), WAIT_MS);
  });
}

// One connection that sends `event` at once and waits for its answer.
function answerOne(i, event) {
  return new Promise((resolve) => {
    const socket = open();
    const done = (value) => settle(socket, resolve, value);
    let welcomes = 0;
    socket.on('connect_error', () => done('refused'));
    socket.on('connect', () => {
      if (event === 'frame') socket.emit('frame', { image, sequence: i + 1 });
      if (event === 'config') socket.emit('config', { max_result_fps: 30 });
      if (event === 'join') socket.emit('join', { room: `r${i}`, role: 'viewer', token: 'wrong' });
    });
    socket.on('pose_data', () => { if (event === 'frame') done('answered'); });
    socket.on('welcome', () => { welcomes += 1; if (event === 'config' && welcomes === 2) done('answered'); });
    socket.on('error', (e) => { if (event === 'join' && e?.code === 'unauthorized') done('answered'); });
    setTimeout(() => done('unanswered'), WAIT_MS);
  });
}

async function run(one) {
  const outcomes = new Array(n);
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      outcomes[i] = await one(i);
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  const counts = {};
  for (const o of outcomes) counts[o] = (counts[o] ?? 0) + 1;
  return counts;
}

if (mode === 'churn') {
  const counts = await run((i) => churnOne(i));
  console.log(JSON.stringify({ tries: n, ...counts }));
} else if (mode === 'answers') {
  const counts = await run((i) => answerOne(i, arg));
  console.log(JSON.stringify({ tries: n, answered: 0, unanswered: 0, refused: 0, ...counts }));
} else {
  console.error(`unknown mode ${mode}`);
  process.exit(2);
}
process.exit(0);
