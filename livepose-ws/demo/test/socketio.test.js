// Socket.IO at `/socket.io/` with the real client (the `socket.io-client` npm package, as
// front ends written against Flask-SocketIO or python-socketio use it): the example server
// (`serve`, real models) on real sockets, over both transports (WebSocket, and HTTP
// long-polling, the client's default first step). Covers the handshake options, JSON+base64
// and binary frames, JSON and binary results, stream options and `config`, error events,
// the frame-rate cap, latest wins under a burst, cleanup after an abrupt close, the token,
// rooms and the metrics. The browser side is in
// socketio-page.test.js.
//
// Needs: target/debug/livepose (or LIVEPOSE_BIN), the dance clip and the models (where
// support.js looks for them), ffmpeg, and `npm install` here (socket.io-client). A missing
// one fails the test with its name, nothing is skipped.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { decodeResult, encodeFrame } from '../js/protocol.js';
import { DANCE, MEDIA, needAll, startServer as startLivepose } from './support.js';

const WAIT_MS = 60_000;
// The frame size the clip is cut to.
const WIDTH = 480;
const HEIGHT = 640;
const MOVENET = [
  'nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear', 'left_shoulder', 'right_shoulder',
  'left_elbow', 'right_elbow', 'left_wrist', 'right_wrist', 'left_hip', 'right_hip',
  'left_knee', 'right_knee', 'left_ankle', 'right_ankle',
];
const TRANSPORTS = [['websocket'], ['polling']];

// socket.io-client's io(), imported in before() so that a missing package fails with its name.
let io;
let work;
// One JPEG of the dance clip, as bytes and as the data URL front ends send.
let jpeg;
let dataUrl;
// Servers: `main` (one worker), `guarded` (a token and rooms), `quick` (1 s heartbeat, so
// a vanished polling client is noticed soon).
const servers = {};

function clientPath() {
  try {
    return createRequire(import.meta.url).resolve('socket.io-client');
  } catch {
    return assert.fail('socket.io-client not installed (npm install in livepose-ws/demo)');
  }
}

// `serve --no-demo` with `args` on a free port (support.js).
const startServer = (args) => startLivepose(['--no-demo', ...args]);

async function getJson(server, route, token) {
  const response = await fetch(new URL(route, server.url), {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  assert.equal(response.status, 200, `GET ${route}: ${response.status}`);
  return response.json();
}

async function streams(server, token) {
  return (await getJson(server, '/streams', token)).streams ?? [];
}

async function stream(server, id, token) {
  return (await streams(server, token)).find((s) => s.id === id);
}

async function metric(server, name) {
  const text = await (await fetch(new URL('/metrics', server.url))).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  assert.ok(line, `${name} in /metrics`);
  return Number(line.split(' ')[1]);
}

async function waitFor(what, check, timeoutMs = WAIT_MS) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// A Socket.IO client that records every event it gets. Listeners are in place before the
// connection opens (io() connects on the next tick), so `welcome` is never missed.
function connect(server, options = {}) {
  const socket = io(server.url, { forceNew: true, reconnection: false, ...options });
  const events = [];
  socket.onAny((name, ...args) => events.push({ name, data: args[0] }));
  socket.on('connect_error', (error) => events.push({ name: 'connect_error', data: error }));
  return {
    socket,
    events,
    // The events named `name` so far.
    all: (name) => events.filter((e) => e.name === name).map((e) => e.data),
    // The first event named `name` (from index `from` on) that satisfies `check`.
    next(name, check = () => true, from = 0, timeoutMs = WAIT_MS) {
      return waitFor(`a ${name} event`, () => {
        const error = events.find((e) => e.name === 'connect_error');
        if (error && name !== 'connect_error') assert.fail(`connect_error: ${error.data.message}`);
        return events.slice(from).find((e) => e.name === name && check(e.data))?.data;
      }, timeoutMs);
    },
    close: () => socket.close(),
  };
}

// Connects and waits for the `welcome` event.
async function open(server, options) {
  const client = connect(server, options);
  const welcome = await client.next('welcome');
  return { ...client, welcome };
}

// Emits `frame` and waits for the result for `sequence` (the event `event`).
async function roundTrip(client, frame, check, event = 'pose_data') {
  const from = client.events.length;
  client.socket.emit('frame', frame);
  return client.next(event, check, from);
}

// A JSON result: 17 MoveNet keypoints in pixels of the frame, most of them visible.
function assertBody(result, what) {
  assert.equal(result.body?.length, 17, `${what}: 17 body keypoints (got ${JSON.stringify(result).slice(0, 300)})`);
  assert.deepEqual(result.body.map((k) => k.name), MOVENET, `${what}: keypoints in MoveNet order`);
  for (const k of result.body) {
    assert.ok(k.x >= 0 && k.x <= WIDTH && k.y >= 0 && k.y <= HEIGHT,
      `${what}: ${k.name} at (${k.x}, ${k.y}) is inside the ${WIDTH}x${HEIGHT} frame, in pixels`);
    assert.ok(k.confidence >= 0 && k.confidence <= 100, `${what}: ${k.name} confidence ${k.confidence}`);
    assert.equal(typeof k.visible, 'boolean');
  }
  const visible = result.body.filter((k) => k.visible).length;
  assert.ok(visible >= 12, `${what}: ${visible} of 17 keypoints visible on a dancer in full view`);
  // Pixels, not normalised coordinates: the keypoints spread over more than one pixel.
  const xs = result.body.map((k) => k.x);
  assert.ok(Math.max(...xs) - Math.min(...xs) > 10, `${what}: keypoints spread in pixels`);
  assert.equal(result.poses, 1, `${what}: one person`);
  assert.equal(typeof result.hands, 'object');
  assert.ok(result.timings.total_backend > 0, `${what}: timings`);
}

// A protocol v1 result message (§4) received as a binary attachment.
function assertBinaryResult(message, sequence, what) {
  assert.ok(Buffer.isBuffer(message), `${what}: a Buffer, got ${typeof message}`);
  assert.equal(message.subarray(0, 4).toString('latin1'), 'LPOS', `${what}: starts with LPOS`);
  assert.equal(message[4], 1, `${what}: version 1`);
  assert.equal(message[5], 2, `${what}: type 2 (result)`);
  assert.equal(message.readBigUInt64LE(8), BigInt(sequence), `${what}: sequence at byte 8`);
  const result = decodeResult(message);
  assert.equal(result.sequence, BigInt(sequence));
  assert.equal(result.poses.length, 1, `${what}: one pose`);
  return result;
}

before(async () => {
  needAll({ browser: false });
  clientPath();
  ({ io } = await import('socket.io-client'));
  work = mkdtempSync(path.join(tmpdir(), 'livepose-socketio-'));
  const file = path.join(work, 'frame.jpg');
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-ss', '1', '-i', path.join(MEDIA, DANCE),
    '-frames:v', '1', '-vf', `scale=${WIDTH}:${HEIGHT}`, '-q:v', '3', file]);
  jpeg = readFileSync(file);
  dataUrl = `data:image/jpeg;base64,${jpeg.toString('base64')}`;
  const [main, guarded, quick] = await Promise.all([
    startServer(['--workers', '1']),
    startServer(['--workers', '1', '--token', 'secret', '--room-token', 'cam']),
    startServer(['--workers', '1', '--heartbeat-secs', '1']),
  ]);
  Object.assign(servers, { main, guarded, quick });
});

after(() => {
  for (const server of Object.values(servers)) server.child.kill('SIGINT');
  if (work) rmSync(work, { recursive: true, force: true });
});

for (const transports of TRANSPORTS) {
  test(`${transports[0]}: welcome, then JSON+base64 frames give pose_data in pixels with the sequence echoed`, async () => {
    const server = servers.main;
    const client = await open(server, { transports });
    try {
      const { welcome } = client;
      assert.equal(client.socket.io.engine.transport.name, transports[0]);
      assert.equal(welcome.type, 'welcome');
      assert.match(welcome.stream_id, /^io\d+$/);
      assert.equal(welcome.options.results, 'json', 'Socket.IO results are JSON by default');
      assert.equal(typeof welcome.limits.max_fps, 'number');
      assert.ok(await stream(server, welcome.stream_id), `${welcome.stream_id} in GET /streams`);
      const timestamp = 1712345678901.5;
      const first = await roundTrip(client, { image: dataUrl, timestamp, sequence: 7 }, (r) => r.sequence === 7);
      assertBody(first, 'first result');
      assert.equal(first.timestamp, timestamp, 'the timestamp (ms) is echoed');
      // Without a timestamp; a bare base64 image (no data: prefix) is accepted too.
      const second = await roundTrip(client, { image: jpeg.toString('base64'), sequence: 8 }, (r) => r.sequence === 8);
      assertBody(second, 'second result');
      assert.equal(client.all('error').length, 0, `no errors: ${JSON.stringify(client.all('error'))}`);
      const seen = await stream(server, welcome.stream_id);
      assert.equal(seen.frames_received, 2);
      assert.equal(seen.frames_processed, 2);
    } finally {
      client.close();
    }
    await waitFor(`${client.welcome.stream_id} to leave /streams`,
      async () => !(await stream(server, client.welcome.stream_id)), 10_000);
  });
}

test('binary attachments: {image: Buffer}, {image: ArrayBuffer}, a bare JPEG and a bare protocol v1 frame', async () => {
  const client = await open(servers.main, { transports: ['websocket'] });
  try {
    const a = await roundTrip(client, { image: jpeg, sequence: 5 }, (r) => r.sequence === 5);
    assertBody(a, '{image: Buffer, sequence: 5}');
    const arrayBuffer = jpeg.buffer.slice(jpeg.byteOffset, jpeg.byteOffset + jpeg.length);
    const b = await roundTrip(client, { image: arrayBuffer, sequence: 6, timestamp: 1000 }, (r) => r.sequence === 6);
    assertBody(b, '{image: ArrayBuffer, sequence: 6}');
    assert.equal(b.timestamp, 1000);
    const c = await roundTrip(client, jpeg, () => true);
    assertBody(c, 'a bare JPEG Buffer');
    assert.equal(c.sequence, 0, 'a bare JPEG has no sequence');
    const v1 = Buffer.from(encodeFrame({ sequence: 9, captureTsUs: 2_000_000 }, jpeg));
    const d = await roundTrip(client, v1, (r) => r.sequence === 9);
    assertBody(d, 'a bare protocol v1 frame');
    assert.equal(d.timestamp, 2000, 'capture_ts_us / 1000');
    assert.equal(client.all('error').length, 0, `no errors: ${JSON.stringify(client.all('error'))}`);
  } finally {
    client.close();
  }
});

test('results: "binary" in auth gives protocol v1 result messages as Buffers starting with LPOS', async () => {
  for (const transports of TRANSPORTS) {
    const client = await open(servers.main, { transports, auth: { results: 'binary' } });
    try {
      assert.equal(client.welcome.options.results, 'binary');
      const json = await roundTrip(client, { image: dataUrl, sequence: 11 }, (m) => Buffer.isBuffer(m) && m.readBigUInt64LE(8) === 11n);
      const result = assertBinaryResult(json, 11, `${transports[0]}, JSON frame`);
      assert.equal(result.poses[0].landmarks.length, 33 * 5, '33 BlazePose landmarks');
      const v1 = Buffer.from(encodeFrame({ sequence: 12, captureTsUs: 42 }, jpeg));
      const binary = await roundTrip(client, v1, (m) => Buffer.isBuffer(m) && m.readBigUInt64LE(8) === 12n);
      assert.equal(assertBinaryResult(binary, 12, `${transports[0]}, v1 frame`).captureTsUs, 42n);
      assert.ok(client.all('pose_data').every(Buffer.isBuffer), 'every result is binary');
    } finally {
      client.close();
    }
  }
});

test('result_event in auth or in the query renames the result event', async () => {
  for (const [how, options] of [['auth', { auth: { result_event: 'pose_result' } }], ['query', { query: { result_event: 'pose_result' } }]]) {
    const client = await open(servers.main, { transports: ['websocket'], ...options });
    try {
      const result = await roundTrip(client, { image: dataUrl, sequence: 3 }, (r) => r.sequence === 3, 'pose_result');
      assertBody(result, `result_event in ${how}`);
      assert.equal(client.all('pose_data').length, 0, `no pose_data with result_event in ${how}`);
    } finally {
      client.close();
    }
  }
});

// The newest frame of a burst must win: the server infers one frame at a time (one worker),
// frames that arrive meanwhile replace each other, and the last one is inferred once the
// worker is free. Several bursts on fresh connections (fresh rate windows): a frame order
// lost between the socket and the stream shows in about half of them (five per transport).
test('latest wins: a burst of 30 frames gives fewer results, drops, and the newest frame wins', async () => {
  const server = servers.main;
  const BURST = 30;
  const bursts = [];
  for (const transports of TRANSPORTS) {
    for (let round = 0; round < 5; round++) {
      const client = await open(server, { transports });
      try {
        const id = client.welcome.stream_id;
        const sent = [];
        for (let i = 0; i < BURST; i++) {
          const sequence = 100 * (round + 1) + i;
          sent.push(sequence);
          client.socket.emit('frame', { image: dataUrl, sequence });
        }
        // Done when every frame was received and was processed or dropped, and every
        // processed frame's result arrived.
        const figures = await waitFor(`the burst on ${id} to settle`, async () => {
          const s = await stream(server, id);
          const results = client.all('pose_data').length;
          return s && s.frames_received === BURST && s.frames_processed + s.frames_dropped === BURST
            && results === s.frames_processed && s;
        });
        // A stats message after the burst (every second) counts the drops too.
        const from = client.events.length;
        const stats = await client.next('stats', () => true, from, 5_000);
        const results = client.all('pose_data');
        bursts.push({
          transport: transports[0], id, last: sent.at(-1),
          sequences: results.map((r) => r.sequence),
          framesDropped: Math.max(...results.map((r) => r.frames_dropped)),
          streamDropped: figures.frames_dropped, statsDropped: stats.dropped,
          errors: client.all('error'),
        });
      } finally {
        client.close();
      }
    }
  }
  for (const b of bursts) console.log('burst:', JSON.stringify(b));
  for (const b of bursts) {
    const what = `${b.transport} burst on ${b.id}`;
    assert.deepEqual(b.errors, [], `${what}: no errors`);
    assert.ok(b.sequences.length >= 1 && b.sequences.length < BURST, `${what}: ${b.sequences.length} results for ${BURST} frames`);
    assert.ok(b.streamDropped > 0 && b.framesDropped > 0 && b.statsDropped > 0,
      `${what}: drops in /streams (${b.streamDropped}), frames_dropped (${b.framesDropped}) and stats.dropped (${b.statsDropped})`);
    assert.equal(b.streamDropped + b.sequences.length, BURST, `${what}: each frame processed or dropped`);
  }
  const inOrder = (b) => b.sequences.every((x, i) => i === 0 || b.sequences[i - 1] < x);
  const lost = bursts.filter((b) => b.sequences.at(-1) !== b.last || !inOrder(b));
  assert.deepEqual(lost.map((b) => `${b.transport} ${b.id}: results ${b.sequences.join(', ')}; last frame ${b.last}`), [],
    'the newest frame of a burst must win (the last result is for the last frame, and results come in '
    + 'frame order, as on /ws), but in these bursts an older frame replaced a newer one in the latest-wins slot: the '
    + 'Socket.IO `frame` events reach the stream out of order (socketioxide spawns a task per event, and the '
    + 'handler does its work inside that task)');
});

// A client that vanishes (SIGKILL: no close frame, no disconnect packet) while its frames
// are in flight. It runs in a child process that prints its stream id, then a line per
// result, while sending a frame every 20 ms.
const VANISHING_CLIENT = `
const { io } = require(process.env.SIO_CLIENT);
const image = require('node:fs').readFileSync(process.env.FRAME);
const socket = io(process.env.URL, { transports: [process.env.TRANSPORT], reconnection: false });
socket.on('welcome', (w) => {
  console.log('stream ' + w.stream_id);
  let sequence = 0;
  setInterval(() => socket.emit('frame', { image, sequence: sequence++ }), 20);
});
socket.on('pose_data', (r) => console.log('result ' + r.sequence));
socket.on('connect_error', (e) => { console.log('connect_error ' + e.message); process.exit(1); });
`;

async function vanish(server, transport) {
  const child = spawn(process.execPath, ['-e', VANISHING_CLIENT], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, SIO_CLIENT: clientPath(), FRAME: path.join(work, 'frame.jpg'), URL: server.url, TRANSPORT: transport },
  });
  let id;
  let results = 0;
  for await (const line of createInterface({ input: child.stdout })) {
    id ??= line.match(/^stream (\S+)/)?.[1];
    if (line.startsWith('result ')) results += 1;
    assert.ok(!line.startsWith('connect_error'), line);
    if (id && results >= 3) break;
  }
  assert.ok(id, 'the child client printed its stream id');
  assert.ok(await stream(server, id), `${id} in /streams before the kill`);
  const killed = performance.now();
  child.kill('SIGKILL');
  await waitFor(`${id} to leave /streams after the client was killed`, async () => !(await stream(server, id)), 30_000);
  return { id, ms: Math.round(performance.now() - killed) };
}

test('cleanup: a websocket client killed mid-stream is gone from /streams within 1 s', async () => {
  // The main server pings every 10 s: the closed TCP connection itself must end the stream.
  const { id, ms } = await vanish(servers.main, 'websocket');
  console.log(`cleanup: websocket stream ${id} gone ${ms} ms after SIGKILL of its client`);
  assert.ok(ms < 1000, `websocket stream ${id} gone after ${ms} ms (limit 1000 ms)`);
});

test('cleanup: a polling client killed mid-stream is gone from /streams after the ping timeout', async () => {
  // A polling client is noticed through the Engine.IO ping timeout (--heartbeat-secs 1).
  const { id, ms } = await vanish(servers.quick, 'polling');
  console.log(`cleanup: polling stream ${id} gone ${ms} ms after SIGKILL of its client (--heartbeat-secs 1)`);
});

test('stream options: in the handshake, and by a config event answered by welcome', async () => {
  const auth = { model: 'full', mode: 'image', smoothing: 'none', max_result_fps: 30 };
  const client = await open(servers.main, { transports: ['websocket'], auth });
  try {
    assert.deepEqual({ ...client.welcome.options, results: undefined, hands: undefined }, { ...auth, results: undefined, hands: undefined },
      `handshake options in welcome: ${JSON.stringify(client.welcome.options)}`);
    assertBody(await roundTrip(client, { image: dataUrl, sequence: 1 }, (r) => r.sequence === 1), 'full model, image mode');
    const from = client.events.length;
    client.socket.emit('config', { model: 'lite', mode: 'live', smoothing: 'ema' });
    const welcome = await client.next('welcome', () => true, from);
    assert.equal(welcome.options.model, 'lite');
    assert.equal(welcome.options.mode, 'live');
    assert.equal(welcome.options.smoothing, 'ema');
    assert.equal(welcome.options.max_result_fps, 30, 'absent fields keep their value');
    assertBody(await roundTrip(client, { image: dataUrl, sequence: 2 }, (r) => r.sequence === 2), 'after config');
  } finally {
    client.close();
  }
});

test('errors: bad base64 gets bad_image_data, bytes that do not decode get bad_image, unreadable events bad_json, as error events; the stream goes on', async () => {
  const client = await open(servers.main, { transports: ['websocket'] });
  try {
    let from = client.events.length;
    client.socket.emit('frame', { image: 'data:image/jpeg;base64,!!!!', sequence: 1 });
    const badData = await client.next('error', () => true, from);
    assert.equal(badData.code, 'bad_image_data', JSON.stringify(badData));
    assert.equal(badData.fatal, false);
    // JPEG magic, then garbage: not UTF-8, so a binary attachment for sure.
    const junk = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(64, 0xfe)]);
    from = client.events.length;
    client.socket.emit('frame', { image: junk, sequence: 5 });
    const answer = await waitFor('an answer to a frame that does not decode', () => client.events.slice(from)
      .find((e) => e.name === 'error' || (e.name === 'pose_data' && e.data.type === 'error')));
    assert.equal(answer.name, 'error',
      `a frame whose bytes do not decode must get an \`error\` event (as every other error), but its error `
      + `came as the result event \`${answer.name}\`: ${JSON.stringify(answer.data)} (a front end's pose_data handler `
      + 'then reads an error object as a result: data.body is undefined)');
    assert.equal(answer.data.code, 'bad_image');
    assert.equal(answer.data.sequence, 5);
    // Events whose data does not read as the event's shape are answered, not ignored.
    for (const [event, data] of [['config', { model: 'huge' }], ['frame', { image: 42 }], ['frame', {}]]) {
      from = client.events.length;
      client.socket.emit(event, data);
      const refused = await client.next('error', () => true, from);
      assert.equal(refused.code, 'bad_json', JSON.stringify(refused));
      assert.match(refused.message, new RegExp(`\`${event}\``), JSON.stringify(refused));
    }
    // The connection goes on.
    assertBody(await roundTrip(client, { image: dataUrl, sequence: 6 }, (r) => r.sequence === 6), 'after the errors');
  } finally {
    client.close();
  }
});

test('rate limit: frames over --max-fps get a rate_limited error event and are counted in stats', async () => {
  const server = await startServer(['--workers', '1', '--max-fps', '5']);
  const client = await open(server, { transports: ['websocket'] });
  try {
    assert.equal(client.welcome.limits.max_fps, 5);
    for (let i = 0; i < 20; i++) client.socket.emit('frame', { image: dataUrl, sequence: i });
    const error = await client.next('error', (e) => e.code === 'rate_limited');
    assert.equal(error.fatal, false);
    const stats = await client.next('stats', (s) => s.frames_rate_limited > 0);
    console.log('rate limit:', JSON.stringify({ error, framesRateLimited: stats.frames_rate_limited, results: client.all('pose_data').length }));
    assert.ok(stats.frames_rate_limited >= 15, `${stats.frames_rate_limited} of 20 frames refused at 5 fps`);
    assert.ok(client.all('pose_data').length <= 5);
  } finally {
    client.close();
    server.child.kill('SIGINT');
  }
});

test('token: without it connect_error says a token is required; with it in auth or the query the client connects', async () => {
  const server = servers.guarded;
  for (const transports of TRANSPORTS) {
    const refused = connect(server, { transports });
    try {
      const error = await refused.next('connect_error');
      assert.match(error.message, /token/i, `${transports[0]}: connect_error names the token: ${error.message}`);
      assert.equal(refused.all('welcome').length, 0);
    } finally {
      refused.close();
    }
    const wrong = connect(server, { transports, auth: { token: 'wrong' } });
    try {
      assert.match((await wrong.next('connect_error')).message, /token/i);
    } finally {
      wrong.close();
    }
  }
  for (const options of [{ auth: { token: 'secret' } }, { query: { token: 'secret' } }]) {
    const client = await open(server, { transports: ['websocket'], ...options });
    try {
      assert.ok(await stream(server, client.welcome.stream_id, 'secret'), 'listed in /streams');
      assertBody(await roundTrip(client, { image: dataUrl, sequence: 1 }, (r) => r.sequence === 1),
        `token in ${Object.keys(options)[0]}`);
    } finally {
      client.close();
    }
  }
});

test('rooms: a camera publishes, viewers get its results (and frames), a second camera gets camera_taken', async () => {
  const server = servers.guarded;
  const auth = { token: 'secret' };
  const camera = await open(server, { transports: ['websocket'], auth });
  const viewer = await open(server, { transports: ['polling'], auth });
  const frameViewer = await open(server, { transports: ['websocket'], auth });
  const second = await open(server, { transports: ['websocket'], auth });
  let timer;
  try {
    // A wrong room token is refused.
    second.socket.emit('join', { room: 'r', role: 'camera', token: 'nope' });
    const refused = await second.next('error', (e) => e.code === 'unauthorized');
    assert.equal(refused.fatal, false);
    camera.socket.emit('join', { room: 'r', role: 'camera', token: 'cam' });
    // The viewer's token: the view token, else (as here) the server's token.
    viewer.socket.emit('join', { room: 'r', role: 'viewer', token: 'secret' });
    frameViewer.socket.emit('join', { room: 'r', role: 'viewer', token: 'secret', frames: true });
    // Protocol v1 frames (a Buffer alone): those are what `frames: true` passes through,
    // unchanged, as on /ws/rooms/{room}/view?frames=1 (JSON frames are not v1 messages).
    let sequence = 0;
    timer = setInterval(() => camera.socket.emit('frame',
      Buffer.from(encodeFrame({ sequence: sequence++, captureTsUs: Date.now() * 1000 }, jpeg))), 100);
    await waitFor('the viewers to get 3 results', () => viewer.all('pose_data').length >= 3
      && frameViewer.all('pose_data').length >= 3);
    const seen = viewer.all('pose_data');
    for (const r of seen) assertBody(r, 'a viewer\'s result');
    const frame = await frameViewer.next('frame');
    assert.ok(Buffer.isBuffer(frame), 'a viewer with frames: true gets the camera\'s frames as binary');
    assert.equal(frame.subarray(0, 4).toString('latin1'), 'LPOS');
    assert.equal(frame[5], 1, 'a protocol v1 frame message');
    assert.equal(frame.length, 40 + jpeg.length, 'the camera\'s frame message, unchanged');
    assert.ok(camera.all('pose_data').length >= 1, 'the camera gets its own results');
    // Viewers send no frames: they are not streams.
    const ids = (await streams(server, 'secret')).map((s) => s.id);
    assert.ok(ids.includes(camera.welcome.stream_id), `camera in /streams: ${ids}`);
    assert.ok(!ids.includes(viewer.welcome.stream_id), `viewer not in /streams: ${ids}`);
    // The room has a camera: a second one is refused.
    second.socket.emit('join', { room: 'r', role: 'camera', token: 'cam' });
    const taken = await second.next('error', (e) => e.code === 'camera_taken');
    console.log('rooms: second camera got', JSON.stringify(taken));
    assert.equal(taken.type, 'error');
    assert.match(taken.message, /camera/);
    assert.equal(viewer.all('error').length, 0, `viewer errors: ${JSON.stringify(viewer.all('error'))}`);
    assert.equal(camera.all('error').length, 0, `camera errors: ${JSON.stringify(camera.all('error'))}`);
  } finally {
    clearInterval(timer);
    for (const c of [camera, viewer, frameViewer, second]) c.close();
  }
});

test('metrics: Socket.IO connections count in livepose_connections and livepose_connections_total', async () => {
  const server = servers.main;
  const before = await metric(server, 'livepose_connections_total');
  const clients = await Promise.all(TRANSPORTS.map((transports) => open(server, { transports })));
  try {
    const total = await metric(server, 'livepose_connections_total');
    const open_ = await metric(server, 'livepose_connections');
    console.log(`metrics: livepose_connections_total ${before} -> ${total}, livepose_connections ${open_}`);
    assert.ok(total >= before + 2, `livepose_connections_total ${before} -> ${total}`);
    assert.ok(open_ >= 2, `livepose_connections ${open_} with 2 clients open`);
  } finally {
    for (const c of clients) c.close();
  }
  await waitFor('livepose_connections back to 0', async () => (await metric(server, 'livepose_connections')) === 0, 10_000);
});
