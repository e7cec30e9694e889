// One pose stream over a WebSocket: hello, JPEG frames out (header and image in one
// binary message, no copy), results and control messages in, reconnection with backoff.
// Flow control mirrors the server's latest-wins slot: at most one frame waits for an
// answer while the next is being made. Adaptive quality (adapt.js, on by default): the JPEG
// quality to encode with (`stream.quality`) and the most frames a second to send
// (`stream.targetFps`) follow the server's rate hints and the measured round trip (a frame's
// send to its result) against a latency budget; with `adapt: false`, a fixed quality and
// never faster than the server's last rate hint.
import { AdaptiveController } from './adapt.js';
import { decodeResult, encodeFrameHeader, FrameFlags, ImageFormat } from './protocol.js';

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
   * @param {{hello?: object, adapt?: false | object, onResult?: Function, onControl?: Function,
   *   onState?: Function, onAdapt?: Function}} handlers
   *   `onResult(result, message)` gets each decoded result, `onControl(msg)` each control
   *   message (welcome, stats, rate, error), `onState(text)` connection changes,
   *   `onAdapt({quality, targetFps, latencyMs, reason})` each change of quality or rate.
   *   `adapt`: the adaptive controller's options (adapt.js `ADAPT_DEFAULTS`: `budgetMs`,
   *   `minQuality`, `maxFps`, ...), or false for a fixed quality and rate.
   */
  constructor(url, {
    hello = {}, adapt = {}, onResult = () => {}, onControl = () => {}, onState = () => {}, onAdapt = () => {},
  } = {}) {
    this.url = url;
    this.hello = { type: 'hello', protocol: 1, client: 'livepose-demo/0.1', results: 'binary', ...hello };
    this.handlers = { onResult, onControl, onState, onAdapt };
    this.adapter = adapt === false ? null : new AdaptiveController(adapt, performance.now());
    /** Send times (performance.now()) of the frames awaiting a result, by sequence. */
    this.sentAt = new Map();
    this.ws = null;
    this.stopped = true;
    this.backoffMs = 500;
    this.resetCounters();
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
    this.maxSendFps = Infinity;
    this.flags = 0;
    this.sentAt.clear();
    this.warmup = WARMUP_RESULTS;
  }

  /** Connects, and reconnects after a close until {@link stop}. */
  start() {
    this.stopped = false;
    this.connect();
  }

  /** Closes the socket for good. */
  stop() {
    this.stopped = true;
    this.ws?.close(1000, 'client stopped');
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
    return ws !== null && ws.readyState === WebSocket.OPEN
      && ws.bufferedAmount < MAX_BUFFERED_BYTES
      && (this.sequence - this.answered <= 1 || nowMs - this.lastSendMs > this.answerTimeoutMs())
      && nowMs - this.lastSendMs >= 1000 / this.targetFps;
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
    this.sequence += 1;
    this.lastSendMs = nowMs;
    const sentMs = performance.now();
    this.sentAt.set(this.sequence, sentMs);
    if (this.sentAt.size > 64) this.sentAt.delete(this.sentAt.keys().next().value);
    this.adapter?.sent(sentMs);
    const header = encodeFrameHeader({
      sequence: this.sequence, captureTsUs: captureUs, format: ImageFormat.JPEG, flags: this.flags, payloadLength: jpeg.size,
    });
    this.flags = 0;
    this.ws.send(new Blob([header, jpeg]));
  }
}
