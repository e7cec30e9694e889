// The room viewer page (`/viewer`): picks a room (from `GET /rooms`, or typed) and watches
// it over `/ws/rooms/{room}/view`: the camera's results drawn as skeletons (interpolated
// between results), over the camera's frames with `?frames=1`, or the server's annotated
// JPEGs (`?frames=annotated`) shown in an <img>. Page parameters: `room`, `frames`
// (`1` or `annotated`), `token` (the view token, passed on to the socket and `/rooms`).
// `window.liveposeViewer` exposes the counters (test/viewer-page.test.js reads them).
import { PoseInterpolator, drawPoses } from './skeleton.js';
import { classifyMessage, posesFromJson, roomsOf, viewUrl } from './rooms.js';

const MAX_BACKOFF_MS = 8000;
const ROOMS_REFRESH_MS = 3000;

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
  errors: [],
};
window.liveposeViewer = state;

let ws = null;
let backoffMs = 500;
let frameBitmap = null; // the latest camera frame (`frames=1`)
let decoding = false;
let jsonPoses = null; // the latest JSON result's poses (no interpolation)
let imageUrl = null;

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
      if (message.result.poses.length > 0) state.resultsWithPoses += 1;
      jsonPoses = null;
      interpolator.push(message.result, performance.now());
      break;
    case 'json':
      state.results += 1;
      jsonPoses = posesFromJson(message.result, canvas.width, canvas.height);
      if (jsonPoses.length > 0) state.resultsWithPoses += 1;
      break;
    case 'frame':
      state.frames += 1;
      showFrame(message.frame.payload);
      break;
    case 'jpeg':
      state.images += 1;
      showImage(message.bytes);
      break;
    case 'control':
      if (message.message.type === 'error') {
        state.errors.push(`${message.message.code}: ${message.message.message}`);
        setStatus(`server: ${message.message.code}: ${message.message.message}`);
      }
      break;
    default:
      break;
  }
}

// The camera's frame under the skeletons; a frame that arrives while one decodes is skipped.
function showFrame(jpeg) {
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
  if (frameBitmap && (canvas.width !== frameBitmap.width || canvas.height !== frameBitmap.height)) {
    canvas.width = frameBitmap.width;
    canvas.height = frameBitmap.height;
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
  if (state.mode === '1') lines.push(`camera frames ${state.frames}`);
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
