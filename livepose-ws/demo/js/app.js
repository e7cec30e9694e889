// The demo page: a camera or a video file, frames to the server (JPEG, or H.264 where the
// browser and the server can), skeletons drawn over the video at display rate, and an
// overlay with the codec, fps, latency and the server's stage timings. `window.liveposeDemo`
// exposes the counters (the end-to-end tests and the uplink bench read them). Each new
// video frame is captured at most once. The JPEG quality (H.264 bitrate) and the send rate
// adapt to the server (see stream.js, adapt.js); page parameters: `?budget=MS` (the latency
// budget, default 150), `?adapt=0` (fixed quality 0.8 or 1 Mbit/s, no rate target),
// `?codec=auto|jpeg|h264` (default auto), `?token=`, `?ws=` (another socket path).
import { STAGES } from './protocol.js';
import { PoseInterpolator, drawPoses } from './skeleton.js';
import { PoseStream, nowUs } from './stream.js';

// Results kept for the uplink bench: (arrival ms, capture-to-result ms), about 10 minutes at 30 fps.
const RESULT_LOG_MAX = 20_000;

const CAPTURE_MAX_WIDTH = 640;

const $ = (id) => document.getElementById(id);
const video = $('video');
const overlay = $('overlay');
const statsText = $('stats');
const statusText = $('status');
const captureCanvas = document.createElement('canvas');
const captureCtx = captureCanvas.getContext('2d');
const overlayCtx = overlay.getContext('2d');
const interpolator = new PoseInterpolator();

const state = {
  connection: 'idle',
  source: null,
  sent: 0,
  results: 0,
  resultsWithPoses: 0,
  framesDrawn: 0,
  lastBones: 0,
  dropped: 0,
  errors: [],
  latenciesMs: [],
  resultTimesMs: [],
  sendTimesMs: [],
  last: null,
  serverStats: null,
  // Adaptive quality: the current JPEG quality, target rate, median round trip (send to
  // result), and the last changes.
  quality: null,
  targetFps: null,
  rttMs: null,
  adaptations: [],
  // The codec in use ('jpeg' or 'h264'), the H.264 bitrate, bytes of frames sent on the
  // connection, and each result's arrival and capture-to-result latency.
  codec: 'jpeg',
  bitrate: null,
  bytesSent: 0,
  keyframesRequested: 0,
  resultLog: [],
};
window.liveposeDemo = state;

const params = new URLSearchParams(location.search);
const wsUrl = new URL(params.get('ws') ?? '/ws', location.href);
wsUrl.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
if (params.has('token')) wsUrl.searchParams.set('token', params.get('token'));

const budgetMs = Number(params.get('budget')) || undefined;
const codecParam = params.get('codec');
const stream = new PoseStream(wsUrl.href, {
  hello: { model: $('model').value, hands: $('hands').checked },
  adapt: params.get('adapt') === '0' ? false : { ...(budgetMs ? { budgetMs } : {}) },
  codec: ['auto', 'jpeg', 'h264'].includes(codecParam) ? codecParam : 'auto',
  onCodec: (codec) => {
    state.codec = codec;
    $('codec-used').textContent = codec === 'h264' ? 'H.264' : 'JPEG';
  },
  onAdapt: (change) => pushBounded(state.adaptations, { atMs: Math.round(performance.now()), ...change }, 50),
  onState: (text) => {
    state.connection = text;
    statusText.textContent = text;
  },
  onResult: (result) => {
    const now = performance.now();
    interpolator.push(result, now);
    state.results += 1;
    if (result.poses.length > 0) state.resultsWithPoses += 1;
    state.dropped = Number(result.framesDropped);
    state.last = result;
    pushWindow(state.resultTimesMs, now);
    const latencyMs = nowUs() / 1000 - Number(result.captureTsUs) / 1000;
    pushBounded(state.latenciesMs, latencyMs);
    pushBounded(state.resultLog, [now, latencyMs], RESULT_LOG_MAX);
  },
  onControl: (msg) => {
    if (msg.type === 'stats') state.serverStats = msg;
    if (msg.type === 'keyframe_request') state.keyframesRequested += 1;
    if (msg.type === 'error') {
      state.errors.push(`${msg.code}: ${msg.message}`);
      statusText.textContent = `server: ${msg.code}: ${msg.message}`;
    }
  },
});

function pushBounded(list, value, max = 120) {
  list.push(value);
  if (list.length > max) list.shift();
}

// Times of the last second's events, for a rate.
function pushWindow(list, now) {
  list.push(now);
  perSecond(list, now);
}

// The number of events in `list` within the second before `now` (older ones are dropped).
function perSecond(list, now) {
  while (list.length > 0 && now - list[0] > 1000) list.shift();
  return list.length;
}

function percentile(values, q) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function useCamera() {
  const media = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false });
  video.removeAttribute('src');
  video.srcObject = media;
  await startSource('camera');
}

async function useFile(file) {
  video.srcObject?.getTracks().forEach((track) => track.stop());
  video.srcObject = null;
  video.src = URL.createObjectURL(file);
  video.loop = true;
  await startSource(`file ${file.name}`);
}

async function startSource(name) {
  video.muted = true;
  await video.play();
  state.source = name;
  interpolator.clear();
  stream.resetTracking();
  if (stream.stopped) stream.start();
}

let encoding = false;
// Video frames presented so far (requestVideoFrameCallback), and the count at the last
// capture: a frame is captured once, not at every display refresh.
let presented = 0;
let capturedAt = -1;
function countFrames() {
  const onFrame = (_, metadata) => {
    presented = metadata.presentedFrames;
    video.requestVideoFrameCallback(onFrame);
  };
  if ('requestVideoFrameCallback' in video) video.requestVideoFrameCallback(onFrame);
  else presented = NaN; // no callback: every refresh may capture
}
countFrames();

function capture(now) {
  const scale = Math.min(1, CAPTURE_MAX_WIDTH / video.videoWidth);
  const width = Math.round(video.videoWidth * scale);
  const height = Math.round(video.videoHeight * scale);
  if (captureCanvas.width !== width || captureCanvas.height !== height) {
    captureCanvas.width = width;
    captureCanvas.height = height;
  }
  const captureUs = nowUs();
  captureCtx.drawImage(video, 0, 0, width, height);
  capturedAt = presented;
  if (stream.codec === 'h264') {
    stream.sendVideo(captureCanvas, captureUs, now);
    state.sent += 1;
    pushWindow(state.sendTimesMs, performance.now());
    return;
  }
  encoding = true;
  captureCanvas.toBlob((jpeg) => {
    encoding = false;
    if (!jpeg || !stream.wantsFrame(performance.now())) return;
    stream.sendJpeg(jpeg, captureUs, now);
    state.sent += 1;
    pushWindow(state.sendTimesMs, performance.now());
  }, 'image/jpeg', stream.quality);
}

function draw(now) {
  if (overlay.width !== video.videoWidth || overlay.height !== video.videoHeight) {
    overlay.width = video.videoWidth;
    overlay.height = video.videoHeight;
  }
  overlayCtx.clearRect(0, 0, overlay.width, overlay.height);
  const bones = drawPoses(overlayCtx, interpolator.sample(now), overlay.width, overlay.height);
  state.lastBones = bones;
  if (bones > 0) state.framesDrawn += 1;
}

const ms = (us) => (us / 1000).toFixed(1);

function showStats(now) {
  const last = state.last;
  const lines = [
    `results ${perSecond(state.resultTimesMs, now)} fps · sent ${perSecond(state.sendTimesMs, now)} fps · dropped ${state.dropped}`,
    `latency e2e p50 ${percentile(state.latenciesMs, 0.5).toFixed(0)} ms, p95 ${percentile(state.latenciesMs, 0.95).toFixed(0)} ms`,
    `codec ${stream.codec === 'h264' ? `H.264 ${(stream.bitrate / 1e6).toFixed(2)} Mbit/s` : `JPEG quality ${stream.quality.toFixed(2)}`}`
      + ` · target ${Number.isFinite(stream.targetFps) ? stream.targetFps.toFixed(1) : '-'} fps`
      + ` · round trip ${Number.isNaN(stream.latencyMs) ? '-' : stream.latencyMs.toFixed(0)} ms`,
  ];
  if (last) {
    const server = Number(last.serverEndUs - last.serverRecvUs);
    lines.push(`server ${ms(server)} ms · poses ${last.poses.length}`);
    lines.push(STAGES.map((stage, i) => `${stage} ${ms(last.timingsUs[i])}`).join(' · ') + ' ms');
  }
  if (state.serverStats) {
    const s = state.serverStats;
    lines.push(`server stats: in ${s.fps_in?.toFixed(1)} fps, out ${s.fps_out?.toFixed(1)} fps, dropped ${s.dropped}`);
  }
  statsText.textContent = lines.join('\n');
}

let lastStatsMs = 0;
function tick(now) {
  state.quality = stream.quality;
  state.targetFps = stream.targetFps;
  state.rttMs = stream.latencyMs;
  state.codec = stream.codec;
  state.bitrate = stream.codec === 'h264' ? stream.bitrate : null;
  state.bytesSent = stream.bytesSent;
  if (video.readyState >= 2 && video.videoWidth > 0) {
    const fresh = presented !== capturedAt || Number.isNaN(presented);
    if (!encoding && fresh && stream.wantsFrame(now)) capture(now);
    draw(now);
  }
  if (now - lastStatsMs > 250) {
    lastStatsMs = now;
    showStats(now);
  }
  requestAnimationFrame(tick);
}

$('camera').addEventListener('click', () => useCamera().catch((e) => {
  state.errors.push(String(e));
  statusText.textContent = `camera: ${e.message}`;
}));
$('file').addEventListener('change', (event) => {
  const [file] = event.target.files;
  if (file) useFile(file).catch((e) => {
    state.errors.push(String(e));
    statusText.textContent = `video: ${e.message}`;
  });
});
$('model').addEventListener('change', () => stream.configure({ model: $('model').value }));
$('hands').addEventListener('change', () => stream.configure({ hands: $('hands').checked }));
$('codec').value = stream.codecChoice;
$('codec').addEventListener('change', () => {
  stream.codecChoice = $('codec').value;
  stream.chooseCodec();
});
requestAnimationFrame(tick);
