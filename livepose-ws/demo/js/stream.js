// One pose stream over a WebSocket: hello, JPEG frames out (header and image in one
// binary message, no copy), results and control messages in, reconnection with backoff.
// Flow control mirrors the server's latest-wins slot: at most one frame waits for an
// answer while the next is being made, and never faster than the server's rate hint.
import { decodeResult, encodeFrameHeader, FrameFlags, ImageFormat } from './protocol.js';

const MAX_BUFFERED_BYTES = 1 << 20;
const MAX_BACKOFF_MS = 8000;
// A frame unanswered this long is taken as lost (the server answers rate-limited frames
// with at most one error a second), so sending resumes.
const ANSWER_TIMEOUT_MS = 2000;

/** Microseconds since the Unix epoch on this page's clock (sub-millisecond). */
export function nowUs() {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

export class PoseStream {
  /**
   * @param {string} url `ws://host:port/ws` (or a room camera URL)
   * @param {{hello?: object, onResult?: Function, onControl?: Function, onState?: Function}} handlers
   *   `onResult(result, message)` gets each decoded result, `onControl(msg)` each control
   *   message (welcome, stats, rate, error), `onState(text)` connection changes.
   */
  constructor(url, { hello = {}, onResult = () => {}, onControl = () => {}, onState = () => {} } = {}) {
    this.url = url;
    this.hello = { type: 'hello', protocol: 1, client: 'livepose-demo/0.1', results: 'binary', ...hello };
    this.handlers = { onResult, onControl, onState };
    this.ws = null;
    this.stopped = true;
    this.backoffMs = 500;
    this.resetCounters();
  }

  resetCounters() {
    this.sequence = 0;
    this.answered = 0;
    this.lastSendMs = -Infinity;
    this.maxSendFps = Infinity;
    this.flags = 0;
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
      if (msg.type === 'rate' && msg.max_send_fps > 0) this.maxSendFps = msg.max_send_fps;
      if (msg.type === 'error' && typeof msg.sequence === 'number') {
        this.answered = Math.max(this.answered, msg.sequence);
      }
      this.handlers.onControl(msg);
      return;
    }
    const result = decodeResult(data);
    this.answered = Math.max(this.answered, Number(result.sequence));
    this.handlers.onResult(result, data);
  }

  /** Changes options mid-stream (`config` control message, §6.1). */
  configure(options) {
    Object.assign(this.hello, options);
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ type: 'config', ...options }));
  }

  /** Whether a frame sent now would be processed rather than wait or be displaced. */
  wantsFrame(nowMs) {
    const ws = this.ws;
    return ws !== null && ws.readyState === WebSocket.OPEN
      && ws.bufferedAmount < MAX_BUFFERED_BYTES
      && (this.sequence - this.answered <= 1 || nowMs - this.lastSendMs > ANSWER_TIMEOUT_MS)
      && nowMs - this.lastSendMs >= 1000 / this.maxSendFps;
  }

  /** Asks the server to drop tracking state at the next frame (a new video source). */
  resetTracking() {
    this.flags |= FrameFlags.RESET_TRACKING;
  }

  /** Sends one JPEG (a Blob) captured at `captureUs` (see {@link nowUs}). */
  sendJpeg(jpeg, captureUs, nowMs) {
    this.sequence += 1;
    this.lastSendMs = nowMs;
    const header = encodeFrameHeader({
      sequence: this.sequence, captureTsUs: captureUs, format: ImageFormat.JPEG, flags: this.flags, payloadLength: jpeg.size,
    });
    this.flags = 0;
    this.ws.send(new Blob([header, jpeg]));
  }
}
