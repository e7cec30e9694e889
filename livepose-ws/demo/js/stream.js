// One pose stream over a WebSocket: hello, frames out (header and image in one binary
// message, no copy), results and control messages in, reconnection with backoff.
//
// Frames are JPEG, or H.264 (protocol §3.2) where the browser encodes it and the server
// decodes it (`codec: 'auto'`, the default: WebCodecs' VideoEncoder says it supports the
// configuration and the server's `welcome` lists `h264`); `codec: 'jpeg'` or `'h264'`
// forces one. `stream.codec` says which is in use.
//
// Flow control, JPEG: it mirrors the server's latest-wins slot: at most one frame waits for
// an answer while the next is being made. H.264: every encoded frame must be sent (later
// ones are predicted from it), so the choice is made before encoding: a camera frame is
// encoded only while the socket's send buffer holds less than about 150 ms of video and the
// encoder is not behind; the server decodes every frame and infers on the newest. A
// keyframe goes first on each connection, on the server's `keyframe_request`, and every
// `keyframeIntervalMs`.
//
// Adaptive quality (adapt.js, on by default): the JPEG quality to encode with
// (`stream.quality`), or the H.264 bitrate (`stream.bitrate`), and the most frames a second
// to send (`stream.targetFps`) follow the server's rate hints and the measured round trip (a
// frame's send to its result) against a latency budget; with `adapt: false`, a fixed
// quality (bitrate) and never faster than the server's last rate hint.
import { AdaptiveController } from './adapt.js';
import { decodeResult, encodeFrameHeader, FrameFlags, ImageFormat } from './protocol.js';

/** H.264 settings: WebCodecs codec string, bitrate without adaptation, keyframe period. */
export const H264_DEFAULTS = Object.freeze({
  codec: 'avc1.42001f',
  bitrate: 1_000_000,
  keyframeIntervalMs: 3000,
});

/** The VideoEncoder configuration of a stream: realtime, Annex B (§3.2). */
export function h264Config({ codec = H264_DEFAULTS.codec, width, height, bitrate, framerate }) {
  return {
    codec, width, height, bitrate, framerate, latencyMode: 'realtime', avc: { format: 'annexb' },
  };
}

/** Whether this browser's VideoEncoder encodes `codec` in realtime at `width` x `height`. */
export async function h264Supported({ codec = H264_DEFAULTS.codec, width = 640, height = 480 } = {}) {
  if (typeof VideoEncoder === 'undefined' || typeof VideoFrame === 'undefined') return false;
  try {
    const support = await VideoEncoder.isConfigSupported(h264Config({
      codec, width, height, bitrate: H264_DEFAULTS.bitrate, framerate: 30,
    }));
    return support.supported === true;
  } catch {
    return false;
  }
}

/**
 * One stream's VideoEncoder: made at the first frame, configured again when the size, the
 * bitrate or the frame rate changes (a new bitrate needs no keyframe: Chromium's encoder
 * carries on with a delta frame, docs/video.md). Chunks go to `onChunk(chunk)` in order.
 */
export class H264Uplink {
  constructor({ codec = H264_DEFAULTS.codec, onChunk, onError }) {
    this.codec = codec;
    this.onChunk = onChunk;
    this.onError = onError;
    this.encoder = null;
    this.config = null;
  }

  /** Frames given to the encoder whose chunk has not come out yet. */
  get queue() {
    return this.encoder?.encodeQueueSize ?? 0;
  }

  /**
   * Encodes `source` (a canvas, an ImageBitmap, a VideoFrame…) captured at `captureUs`
   * (the chunk's timestamp, echoed as the frame's capture time).
   */
  encode(source, captureUs, { bitrate, framerate, keyFrame }) {
    const width = source.displayWidth ?? source.videoWidth ?? source.width;
    const height = source.displayHeight ?? source.videoHeight ?? source.height;
    const config = h264Config({
      codec: this.codec, width, height, bitrate: Math.round(bitrate), framerate: Math.round(framerate),
    });
    let key = keyFrame;
    if (this.encoder === null || this.encoder.state === 'closed') {
      this.encoder = new VideoEncoder({
        output: (chunk) => this.onChunk(chunk),
        error: (e) => this.onError(e),
      });
      this.config = null;
    }
    const c = this.config;
    if (c === null || c.width !== width || c.height !== height) {
      this.encoder.configure(config);
      this.config = config;
      key = true;
    } else if (Math.abs(c.bitrate - config.bitrate) > 0.05 * c.bitrate || c.framerate !== config.framerate) {
      this.encoder.configure(config);
      this.config = config;
    }
    const frame = new VideoFrame(source, { timestamp: captureUs });
    try {
      this.encoder.encode(frame, { keyFrame: key });
    } finally {
      frame.close();
    }
    return key;
  }

  close() {
    if (this.encoder && this.encoder.state !== 'closed') this.encoder.close();
    this.encoder = null;
    this.config = null;
  }
}

const MAX_BUFFERED_BYTES = 1 << 20;
const MAX_BACKOFF_MS = 8000;
// A frame unanswered this long is taken as lost (the server answers rate-limited frames
// with at most one error a second), so sending resumes.
const ANSWER_TIMEOUT_MS = 2000;
// With adaptation, four round trips (within 300 ms to 2 s): frames refused past the
// server's frame cap get no answer, and waiting 2 s for each would stall the stream.
const MIN_ANSWER_TIMEOUT_MS = 300;
// The round trips of the first results of a connection are not counted: the server's first
// inferences on a stream (a detector run, buffers growing) are slower than the rest.
const WARMUP_RESULTS = 3;
/** The JPEG quality without adaptation. */
export const FIXED_QUALITY = 0.8;

/** Microseconds since the Unix epoch on this page's clock (sub-millisecond). */
export function nowUs() {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

export class PoseStream {
  /**
   * @param {string} url `ws://host:port/ws` (or a room camera URL)
   * @param {{hello?: object, adapt?: false | object, codec?: 'auto' | 'jpeg' | 'h264',
   *   h264?: object, onResult?: Function, onControl?: Function, onState?: Function,
   *   onAdapt?: Function, onCodec?: Function}} handlers
   *   `onResult(result, message)` gets each decoded result, `onControl(msg)` each control
   *   message (welcome, stats, rate, error, keyframe_request), `onState(text)` connection
   *   changes, `onAdapt({quality, targetFps, bitrate, latencyMs, reason})` each change of
   *   quality, bitrate or rate, `onCodec(codec)` each change of codec ('jpeg' or 'h264').
   *   `adapt`: the adaptive controller's options (adapt.js `ADAPT_DEFAULTS`: `budgetMs`,
   *   `minQuality`, `maxFps`, `maxBitrate`...), or false for a fixed quality and rate.
   *   `codec`: 'auto' (H.264 where the browser and the server can, else JPEG), or forced.
   *   `h264`: overrides of {@link H264_DEFAULTS}.
   */
  constructor(url, {
    hello = {}, adapt = {}, codec = 'auto', h264 = {}, onResult = () => {}, onControl = () => {},
    onState = () => {}, onAdapt = () => {}, onCodec = () => {},
  } = {}) {
    this.url = url;
    this.hello = { type: 'hello', protocol: 1, client: 'livepose-demo/0.1', results: 'binary', ...hello };
    this.handlers = { onResult, onControl, onState, onAdapt, onCodec };
    this.adapter = adapt === false ? null : new AdaptiveController(adapt, performance.now());
    /** The codec asked for: 'auto', 'jpeg' or 'h264'. */
    this.codecChoice = codec;
    /** The codec in use: 'jpeg' until H.264 is known to work both ends. */
    this.codec = 'jpeg';
    this.h264 = { ...H264_DEFAULTS, ...h264 };
    /** Whether the browser encodes H.264 (null: not known yet). */
    this.h264Encodes = null;
    /** Whether the server refused H.264 frames (an older server). */
    this.h264Refused = false;
    /** The formats the server's `welcome` lists (null: it lists none). */
    this.serverFormats = null;
    this.uplink = null;
    this.needKeyframe = true;
    this.lastKeyframeMs = -Infinity;
    /** Bytes of frames sent on this connection, and H.264 keyframes sent. */
    this.bytesSent = 0;
    this.keyframesSent = 0;
    /** Send times (performance.now()) of the frames awaiting a result, by sequence. */
    this.sentAt = new Map();
    this.ws = null;
    this.stopped = true;
    this.backoffMs = 500;
    this.resetCounters();
  }

  /** The H.264 bitrate to encode with, bits per second. */
  get bitrate() {
    return this.adapter?.bitrate ?? this.h264.bitrate;
  }

  /** The JPEG quality (0–1) to encode the next frame with. */
  get quality() {
    return this.adapter?.quality ?? FIXED_QUALITY;
  }

  /** The most frames a second to send now (Infinity: no limit but the answers). */
  get targetFps() {
    return this.adapter ? this.adapter.targetFps : this.maxSendFps;
  }

  /** The last median round trip (send to result) in ms; NaN before the first result. */
  get latencyMs() {
    return this.adapter?.latencyMs ?? NaN;
  }

  // Lets the controller decide (at most once per its interval) and reports a change.
  adapt(nowMs) {
    const reason = this.adapter?.update(nowMs);
    if (reason) this.handlers.onAdapt({ ...this.adapter.snapshot(), reason });
  }

  resetCounters() {
    this.sequence = 0;
    this.answered = 0;
    this.lastSendMs = -Infinity;
    this.nextSendMs = -Infinity;
    this.maxSendFps = Infinity;
    this.flags = 0;
    this.sentAt.clear();
    this.warmup = WARMUP_RESULTS;
    // A new connection is a new stream on the server: its decoder starts at a keyframe.
    this.needKeyframe = true;
    this.serverFormats = null;
    this.bytesSent = 0;
    this.keyframesSent = 0;
  }

  /** Connects, and reconnects after a close until {@link stop}. */
  start() {
    this.stopped = false;
    this.probeH264();
    this.connect();
  }

  /** Closes the socket for good. */
  stop() {
    this.stopped = true;
    this.ws?.close(1000, 'client stopped');
    this.uplink?.close();
    this.uplink = null;
  }

  // Asks the browser once whether it encodes H.264, unless JPEG is forced.
  probeH264() {
    if (this.codecChoice === 'jpeg' || this.h264Encodes !== null || this.probing) return;
    this.probing = true;
    h264Supported({ codec: this.h264.codec }).then((ok) => {
      this.h264Encodes = ok;
      this.chooseCodec();
    });
  }

  // H.264 when asked for (or, with 'auto', when the server lists it) and the browser
  // encodes it; else JPEG.
  chooseCodec() {
    this.probeH264();
    const canEncode = this.h264Encodes === true;
    const want = this.codecChoice === 'h264'
      || (this.codecChoice === 'auto' && !this.h264Refused && (this.serverFormats ?? []).includes('h264'));
    const codec = want && canEncode ? 'h264' : 'jpeg';
    if (codec === this.codec) return;
    this.codec = codec;
    this.needKeyframe = true;
    this.adapter?.setVideo(codec === 'h264');
    if (codec !== 'h264') {
      this.uplink?.close();
      this.uplink = null;
    }
    this.handlers.onCodec(codec);
  }

  connect() {
    this.resetCounters();
    const ws = new WebSocket(this.url);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    this.handlers.onState('connecting');
    ws.onopen = () => {
      this.backoffMs = 500;
      ws.send(JSON.stringify(this.hello));
      this.handlers.onState('open');
    };
    ws.onmessage = (event) => this.receive(event.data);
    ws.onclose = (event) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.stopped) {
        this.handlers.onState('closed');
        return;
      }
      this.handlers.onState(`closed (${event.code}${event.reason ? `: ${event.reason}` : ''}), retrying in ${this.backoffMs} ms`);
      setTimeout(() => !this.stopped && this.connect(), this.backoffMs);
      this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
    };
  }

  receive(data) {
    if (typeof data === 'string') {
      let msg;
      try {
        msg = JSON.parse(data);
      } catch {
        return;
      }
      if (msg.type === 'welcome') {
        this.serverFormats = Array.isArray(msg.formats) ? msg.formats : null;
        this.chooseCodec();
      }
      if (msg.type === 'keyframe_request') this.needKeyframe = true;
      // A server that does not know format 6 (it predates H.264): JPEG from now on.
      if (msg.type === 'error' && msg.code === 'unknown_image_format' && this.codec === 'h264'
        && this.codecChoice === 'auto') {
        this.h264Refused = true;
        this.chooseCodec();
      }
      if (msg.type === 'rate' && msg.max_send_fps > 0) {
        this.maxSendFps = msg.max_send_fps;
        this.adapter?.hint(msg.max_send_fps);
      }
      // Refused for the per-connection frame cap: a hint without a figure.
      if (msg.type === 'error' && msg.code === 'rate_limited') this.adapter?.hint();
      if (msg.type === 'error' && typeof msg.sequence === 'number') {
        this.answered = Math.max(this.answered, msg.sequence);
      }
      this.handlers.onControl(msg);
      this.adapt(performance.now());
      return;
    }
    const result = decodeResult(data);
    const sequence = Number(result.sequence);
    this.answered = Math.max(this.answered, sequence);
    const now = performance.now();
    const sentAt = this.sentAt.get(sequence);
    if (this.warmup > 0) this.warmup -= 1;
    else if (sentAt !== undefined) this.adapter?.latency(now - sentAt);
    for (const s of this.sentAt.keys()) if (s <= sequence) this.sentAt.delete(s);
    this.handlers.onResult(result, data);
    this.adapt(now);
  }

  /** Changes options mid-stream (`config` control message, §6.1). */
  configure(options) {
    Object.assign(this.hello, options);
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ type: 'config', ...options }));
  }

  /**
   * Whether a frame sent now would be processed rather than wait or be displaced, and is
   * within the target rate. `nowMs`: performance.now() (or a requestAnimationFrame time).
   */
  wantsFrame(nowMs) {
    this.adapt(nowMs);
    const ws = this.ws;
    if (ws === null || ws.readyState !== WebSocket.OPEN || !this.slotOpen(nowMs)) {
      return false;
    }
    if (this.codec === 'h264') {
      // Every encoded frame is sent: encode only what the uplink and the encoder keep up with.
      if (ws.bufferedAmount >= this.videoBufferBytes()) {
        // A camera frame waits for the uplink: it is slower than the bitrate.
        this.adapter?.congested();
        return false;
      }
      return (this.uplink?.queue ?? 0) <= 1;
    }
    return ws.bufferedAmount < MAX_BUFFERED_BYTES
      && (this.sequence - this.answered <= 1 || nowMs - this.lastSendMs > this.answerTimeoutMs());
  }

  /**
   * Whether the target rate lets a frame go at `nowMs`. Frames keep to a schedule of one per
   * 1/targetFps, and one may go up to half an interval before its slot: a 30 fps camera's
   * frames, seen at display refreshes, come 33 ms give or take a refresh apart, and a strict
   * "33.3 ms since the last" would refuse every one that came a little early (regression:
   * at a target of 30 fps the page sent 21–22).
   */
  slotOpen(nowMs) {
    return nowMs >= this.nextSendMs - 500 / this.targetFps;
  }

  // A frame went at `nowMs`: the next slot is one interval after this one's (an early frame
  // keeps the schedule; a late one starts it again from now, so a pause gives no burst).
  markSent(nowMs) {
    this.lastSendMs = nowMs;
    this.nextSendMs = Math.max(this.nextSendMs, nowMs) + 1000 / this.targetFps;
  }

  /** H.264: the send buffer a frame may be encoded over: about 150 ms of video, 16 KiB at least. */
  videoBufferBytes() {
    return Math.max(16 * 1024, (this.bitrate / 8) * 0.15);
  }

  /** How long an unanswered frame is waited for before it is taken as lost. */
  answerTimeoutMs() {
    const rtt = this.latencyMs;
    if (!Number.isFinite(rtt)) return ANSWER_TIMEOUT_MS;
    return Math.min(ANSWER_TIMEOUT_MS, Math.max(MIN_ANSWER_TIMEOUT_MS, 4 * rtt));
  }

  /** Asks the server to drop tracking state at the next frame (a new video source). */
  resetTracking() {
    this.flags |= FrameFlags.RESET_TRACKING;
  }

  /** Sends one JPEG (a Blob) captured at `captureUs` (see {@link nowUs}). */
  sendJpeg(jpeg, captureUs, nowMs) {
    this.markSent(nowMs);
    this.sendFrame(ImageFormat.JPEG, jpeg, jpeg.size, captureUs, 0);
  }

  /**
   * H.264: encodes `source` (the capture canvas, an ImageBitmap, a VideoFrame) captured at
   * `captureUs`; the frame is sent when the encoder gives its chunk (a few ms later).
   */
  sendVideo(source, captureUs, nowMs) {
    this.markSent(nowMs);
    if (this.uplink === null) {
      this.uplink = new H264Uplink({
        codec: this.h264.codec,
        onChunk: (chunk) => this.sendChunk(chunk),
        onError: (e) => {
          // The encoder failed (a configuration it cannot do after all): JPEG from now on.
          this.handlers.onControl({ type: 'error', code: 'encoder', message: String(e), fatal: false });
          this.h264Encodes = false;
          this.chooseCodec();
        },
      });
    }
    const periodic = nowMs - this.lastKeyframeMs >= this.h264.keyframeIntervalMs;
    const keyFrame = this.needKeyframe || periodic;
    const fps = Number.isFinite(this.targetFps) ? Math.min(this.targetFps, 60) : 30;
    const key = this.uplink.encode(source, captureUs, { bitrate: this.bitrate, framerate: fps, keyFrame });
    if (key) {
      this.needKeyframe = false;
      this.lastKeyframeMs = nowMs;
    }
  }

  // An encoded chunk: sent at once, in order. If it cannot be (the socket closed), the
  // next frame must be a keyframe.
  sendChunk(chunk) {
    if (this.ws === null || this.ws.readyState !== WebSocket.OPEN || this.codec !== 'h264') {
      this.needKeyframe = true;
      return;
    }
    const bytes = new Uint8Array(chunk.byteLength);
    chunk.copyTo(bytes);
    const key = chunk.type === 'key';
    if (key) this.keyframesSent += 1;
    this.sendFrame(ImageFormat.H264, bytes, bytes.length, chunk.timestamp, key ? FrameFlags.KEYFRAME : 0);
  }

  sendFrame(format, payload, length, captureUs, flags) {
    this.sequence += 1;
    const sentMs = performance.now();
    this.sentAt.set(this.sequence, sentMs);
    if (this.sentAt.size > 64) this.sentAt.delete(this.sentAt.keys().next().value);
    this.adapter?.sent(sentMs);
    const header = encodeFrameHeader({
      sequence: this.sequence, captureTsUs: captureUs, format, flags: this.flags | flags, payloadLength: length,
    });
    this.flags = 0;
    this.bytesSent += header.length + length;
    this.ws.send(new Blob([header, payload]));
  }
}
