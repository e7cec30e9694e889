// The room viewer page (`/viewer`): picks a room (from `GET /rooms`, or typed) and watches
// it over `/ws/rooms/{room}/view`: the camera's results drawn as skeletons (interpolated
// between results), over the camera's frames with `?frames=1`, or the server's annotated
// JPEGs (`?frames=annotated`) shown in an <img>. Page parameters: `room`, `frames`
// (`1` or `annotated`), `token` (the view token, passed on to the socket and `/rooms`),
// `size` (`WxH`: the canvas for skeletons without frames, default 640x480; results carry
// normalised coordinates but not the camera's image size).
// Every 2 s the page reports what it shows (`viewer_stats`: results or annotated frames a
// second, and capture-to-display latency when the camera's timestamps are on this clock)
// for the room's figures (`GET /rooms/{room}`), when it has a latency to report.
// A camera that sends H.264 (protocol §3.2): its frames are decoded in order by WebCodecs'
// VideoDecoder from a keyframe; after a gap in the sequence numbers (frames this viewer
// missed) nothing new shows until the next keyframe. The stats say which codec the camera's
// frames are in.
// `window.liveposeViewer` exposes the counters (test/viewer-page.test.js reads them).
import { PoseInterpolator, drawPoses } from './skeleton.js';
import { classifyMessage, posesFromJson, roomsOf, viewUrl } from './rooms.js';
import { FrameFlags, ImageFormat } from './protocol.js';
import { nowUs } from './stream.js';

const MAX_BACKOFF_MS = 8000;
const ROOMS_REFRESH_MS = 3000;
const REPORT_MS = 2000;
// A capture-to-display latency beyond this says the camera's clock is not this page's.
const MAX_PLAUSIBLE_LATENCY_MS = 60_000;

const $ = (id) => document.getElementById(id);
const canvas = $('canvas');
const ctx = canvas.getContext('2d');
const img = $('annotated');
const statsText = $('stats');
const statusText = $('status');
const roomSelect = $('rooms');
const roomInput = $('room');
const modeSelect = $('mode');
const interpolator = new PoseInterpolator();

const params = new URLSearchParams(location.search);
const token = params.get('token') ?? '';
const size = /^(\d+)x(\d+)$/.exec(params.get('size') ?? '');
if (size) [canvas.width, canvas.height] = [Number(size[1]), Number(size[2])];

const state = {
  room: null,
  mode: '',
  connection: 'idle',
  roomsListed: null, // null until `GET /rooms` answered; then the rooms it listed
  results: 0,
  resultsWithPoses: 0,
  framesDrawn: 0, // display frames with a skeleton drawn
  lastBones: 0,
  frames: 0, // camera frames received (`frames=1`)
  images: 0, // annotated JPEGs shown (`frames=annotated`)
  reports: 0, // viewer_stats sent
  latencyMs: null, // the last result's capture to display
  codec: null, // the codec of the camera's frames: 'jpeg', 'h264' (null before the first)
  framesSkipped: 0, // H.264 frames not decoded while waiting for a keyframe
  notices: [], // the types of the control messages received
  errors: [],
};
window.liveposeViewer = state;

let ws = null;
let backoffMs = 500;
let frameBitmap = null; // the latest camera frame (`frames=1`): an ImageBitmap or a VideoFrame
// H.264 camera frames: the decoder, the sequence number expected next, and whether the
// next frame must be a keyframe.
let videoDecoder = null;
let nextSequence = null;
let awaitingKeyframe = true;
let decoding = false;
let jsonPoses = null; // the latest JSON result's poses (no interpolation)
let imageUrl = null;
let shownSinceReport = 0;
let latenciesSinceReport = [];
let lastReportMs = performance.now();

function setStatus(text) {
  state.connection = text;
  statusText.textContent = text;
}

function authHeaders() {
  return token ? { Authorization: `Bearer ${token}` } : {};
}

async function listRooms() {
  try {
    const response = await fetch('/rooms', { headers: authHeaders() });
    if (!response.ok) return;
    const rooms = roomsOf(await response.json());
    state.roomsListed = rooms;
    const current = roomSelect.value || state.room || '';
    roomSelect.replaceChildren(new Option('(pick a room)', ''), ...rooms.map((r) => {
      const camera = r.camera ? `camera: ${r.camera.kind ?? 'yes'}` : 'no camera';
      return new Option(`${r.room} (${camera}, ${r.viewers} watching)`, r.room);
    }));
    if (rooms.some((r) => r.room === current)) roomSelect.value = current;
    roomSelect.hidden = false;
  } catch {
    // No `GET /rooms` on this server: the text box alone.
  }
}

function watch(room, mode) {
  if (!room) return;
  stopWatching();
  state.room = room;
  state.mode = mode;
  roomInput.value = room;
  modeSelect.value = mode;
  const page = new URL(location.href);
  page.searchParams.set('room', room);
  if (mode) page.searchParams.set('frames', mode); else page.searchParams.delete('frames');
  history.replaceState(null, '', page);
  canvas.hidden = mode === 'annotated';
  img.hidden = mode !== 'annotated';
  connect();
}

function stopWatching() {
  const old = ws;
  ws = null;
  old?.close(1000, 'viewer left');
  interpolator.clear();
  jsonPoses = null;
  frameBitmap?.close?.();
  frameBitmap = null;
  if (videoDecoder && videoDecoder.state !== 'closed') videoDecoder.close();
  videoDecoder = null;
  nextSequence = null;
  awaitingKeyframe = true;
}

function connect() {
  const socket = new WebSocket(viewUrl(location.href, state.room, { frames: state.mode, token }));
  socket.binaryType = 'arraybuffer';
  ws = socket;
  setStatus(`connecting to ${state.room}`);
  socket.onopen = () => {
    backoffMs = 500;
    setStatus(`watching ${state.room}`);
  };
  socket.onmessage = (event) => receive(event.data);
  socket.onclose = (event) => {
    if (ws !== socket) return;
    ws = null;
    setStatus(`closed (${event.code}${event.reason ? `: ${event.reason}` : ''}), retrying in ${backoffMs} ms`);
    const room = state.room;
    setTimeout(() => ws === null && state.room === room && connect(), backoffMs);
    backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
  };
}

function receive(data) {
  const message = classifyMessage(data);
  switch (message.kind) {
    case 'result':
      state.results += 1;
      shownSinceReport += 1;
      noteLatency(Number(message.result.captureTsUs));
      if (message.result.poses.length > 0) state.resultsWithPoses += 1;
      jsonPoses = null;
      interpolator.push(message.result, performance.now());
      break;
    case 'json':
      state.results += 1;
      shownSinceReport += 1;
      noteLatency(Number(message.result.timestamp) * 1000);
      jsonPoses = posesFromJson(message.result, canvas.width, canvas.height);
      if (jsonPoses.length > 0) state.resultsWithPoses += 1;
      break;
    case 'frame':
      state.frames += 1;
      if (message.frame.format === ImageFormat.H264) showH264Frame(message.frame);
      else showFrame(message.frame.payload);
      break;
    case 'jpeg':
      state.images += 1;
      shownSinceReport += 1;
      showImage(message.bytes);
      break;
    case 'control':
      notice(message.message);
      break;
    default:
      break;
  }
}

// Control messages: errors, and the room's notices (a server-side source lost and back).
function notice(msg) {
  state.notices.push(msg.type);
  if (msg.type === 'error') {
    state.errors.push(`${msg.code}: ${msg.message}`);
    setStatus(`server: ${msg.code}: ${msg.message}`);
  } else if (msg.type === 'source_lost') {
    setStatus(`${state.room}: source lost (${msg.reason}), retrying in ${msg.retry_in_ms} ms`);
  } else if (msg.type === 'source_back') {
    setStatus(`watching ${state.room} (source back)`);
  }
}

function noteLatency(captureUs) {
  const latencyMs = (nowUs() - captureUs) / 1000;
  if (latencyMs >= 0 && latencyMs < MAX_PLAUSIBLE_LATENCY_MS) {
    state.latencyMs = latencyMs;
    latenciesSinceReport.push(latencyMs);
  }
}

// `viewer_stats`: what was shown since the last report. Annotated frames carry no capture
// time, so a viewer of those (or of a camera on another clock) reports its fps alone.
function report(now) {
  const seconds = (now - lastReportMs) / 1000;
  lastReportMs = now;
  const sorted = latenciesSinceReport.sort((a, b) => a - b);
  const latencyMs = sorted[Math.floor(sorted.length / 2)];
  const fps = shownSinceReport / seconds;
  shownSinceReport = 0;
  latenciesSinceReport = [];
  if (ws?.readyState !== WebSocket.OPEN) return;
  const stats = { type: 'viewer_stats', fps: Number(fps.toFixed(2)) };
  if (latencyMs !== undefined) stats.latency_ms = Number(latencyMs.toFixed(1));
  ws.send(JSON.stringify(stats));
  state.reports += 1;
}

// The WebCodecs codec string of an H.264 stream from its SPS (profile, constraints, level).
function avcCodec(payload) {
  for (let i = 0; i + 6 < payload.length; i++) {
    if (payload[i] === 0 && payload[i + 1] === 0 && payload[i + 2] === 1 && (payload[i + 3] & 0x1f) === 7) {
      const hex = (b) => b.toString(16).padStart(2, '0');
      return `avc1.${hex(payload[i + 4])}${hex(payload[i + 5])}${hex(payload[i + 6])}`;
    }
  }
  return 'avc1.42001f';
}

// An H.264 camera frame: decoded in order from a keyframe; the decoded VideoFrame is drawn.
function showH264Frame(frame) {
  state.codec = 'h264';
  const key = (frame.flags & FrameFlags.KEYFRAME) !== 0;
  if (nextSequence !== null && frame.sequence !== nextSequence) awaitingKeyframe = true;
  nextSequence = frame.sequence + 1n;
  if (awaitingKeyframe && !key) {
    state.framesSkipped += 1;
    return;
  }
  if (typeof VideoDecoder === 'undefined') {
    setStatus('this browser has no WebCodecs VideoDecoder: the camera\'s H.264 frames are not shown');
    return;
  }
  if (key && (videoDecoder === null || videoDecoder.state === 'closed')) {
    videoDecoder = new VideoDecoder({
      output: (picture) => {
        frameBitmap?.close?.();
        frameBitmap = picture;
      },
      error: (e) => {
        state.errors.push(`video decoder: ${e.message ?? e}`);
        videoDecoder = null;
        awaitingKeyframe = true;
      },
    });
    videoDecoder.configure({ codec: avcCodec(frame.payload), optimizeForLatency: true });
  }
  if (videoDecoder === null) return;
  awaitingKeyframe = false;
  videoDecoder.decode(new EncodedVideoChunk({
    type: key ? 'key' : 'delta', timestamp: Number(frame.captureTsUs), data: frame.payload,
  }));
}

// The camera's frame under the skeletons; a frame that arrives while one decodes is skipped.
function showFrame(jpeg) {
  state.codec = 'jpeg';
  if (decoding) return;
  decoding = true;
  createImageBitmap(new Blob([jpeg], { type: 'image/jpeg' })).then((bitmap) => {
    frameBitmap?.close?.();
    frameBitmap = bitmap;
  }).catch(() => {}).finally(() => {
    decoding = false;
  });
}

// An annotated JPEG into the <img>; the previous Blob URL is revoked once the new one loaded.
function showImage(bytes) {
  const previous = imageUrl;
  imageUrl = URL.createObjectURL(new Blob([bytes], { type: 'image/jpeg' }));
  img.onload = () => previous && URL.revokeObjectURL(previous);
  img.onerror = img.onload;
  img.src = imageUrl;
}

function draw(now) {
  if (state.mode === 'annotated' || !state.room) return;
  const frameWidth = frameBitmap?.displayWidth ?? frameBitmap?.width;
  const frameHeight = frameBitmap?.displayHeight ?? frameBitmap?.height;
  if (frameBitmap && (canvas.width !== frameWidth || canvas.height !== frameHeight)) {
    canvas.width = frameWidth;
    canvas.height = frameHeight;
  }
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (frameBitmap) ctx.drawImage(frameBitmap, 0, 0);
  const poses = jsonPoses ?? interpolator.sample(now);
  const bones = drawPoses(ctx, poses, canvas.width, canvas.height);
  state.lastBones = bones;
  if (bones > 0) state.framesDrawn += 1;
}

function showStats() {
  const lines = [`room ${state.room ?? '-'} · results ${state.results} (${state.resultsWithPoses} with a pose)`];
  if (state.latencyMs !== null) lines.push(`capture to display ${state.latencyMs.toFixed(0)} ms`);
  if (state.mode === '1') {
    const codec = { jpeg: 'JPEG', h264: 'H.264' }[state.codec] ?? '-';
    const skipped = state.framesSkipped > 0 ? `, ${state.framesSkipped} skipped waiting for a keyframe` : '';
    lines.push(`camera frames ${state.frames} · codec ${codec}${skipped}`);
  }
  if (state.mode === 'annotated') lines.push(`annotated frames ${state.images}`);
  statsText.textContent = lines.join('\n');
}

let lastStatsMs = 0;
function tick(now) {
  draw(now);
  if (now - lastStatsMs > 250) {
    lastStatsMs = now;
    showStats();
  }
  if (now - lastReportMs >= REPORT_MS) report(now);
  requestAnimationFrame(tick);
}

roomSelect.addEventListener('change', () => roomSelect.value && watch(roomSelect.value, modeSelect.value));
$('watch').addEventListener('click', () => watch(roomInput.value.trim() || roomSelect.value, modeSelect.value));
roomInput.addEventListener('keydown', (event) => {
  if (event.key === 'Enter') watch(roomInput.value.trim(), modeSelect.value);
});
modeSelect.addEventListener('change', () => state.room && watch(state.room, modeSelect.value));
window.addEventListener('pagehide', stopWatching);

listRooms();
setInterval(listRooms, ROOMS_REFRESH_MS);
const frames = params.get('frames') ?? '';
if (params.get('room')) watch(params.get('room'), frames === 'true' ? '1' : frames);
requestAnimationFrame(tick);
