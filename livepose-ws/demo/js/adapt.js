// Adaptive quality: the JPEG quality (or, for H.264, the encoder's bitrate) and the send
// rate of one stream, chosen from the server's `rate` hints (and `rate_limited` refusals)
// and the measured round trip (a frame's send to its result). Additive increase,
// multiplicative decrease:
//
// - a hint, a refusal, or a median round trip over the latency budget: the rate drops to
//   `backoff` times what was actually being sent (or the hint's `max_send_fps`, if lower),
//   and the quality one step; the rate at which the limit was met is remembered;
// - under 80% of the budget and nothing of the kind for `holdMs`: the quality rises one step and
//   the rate by `probeFps` a second (slowly near the remembered limit, quickly away from
//   it), so that a lifted limit is found again.
//
// With H.264 (`video: true`, or `setVideo(true)`) the uplink is what the quality knob
// spends: the round trip over the budget, or a send buffer that fills (`congested()`),
// lowers the bitrate by `bitrateBackoff` (squared far over the budget) and leaves the rate
// alone, since a video encoder spends its bits on what changes, not per frame; the rate
// drops only on the server's hints (it processes fewer frames) or once the bitrate is at
// its floor. Probing raises the bitrate by `bitrateProbe` of itself a second, a quarter of
// that within 15% under the bitrate at which the uplink last filled (remembered until
// probing passes it by 10%), so that a narrow uplink is filled again rarely rather than
// every few seconds (each time, its queue delays every frame until the backoff drains it).
//
// Pure: no timers, no sockets; every call takes the time (ms on any monotonic clock).

/** The controller's settings; all optional. */
export const ADAPT_DEFAULTS = Object.freeze({
  /** Round trip (send to result) to stay under, in ms. */
  budgetMs: 150,
  minQuality: 0.5,
  maxQuality: 0.9,
  /** Quality change of one step. */
  qualityStep: 0.05,
  minFps: 2,
  maxFps: 30,
  /** Time between two decisions, in ms. */
  intervalMs: 500,
  /** No further decrease for this long after one (hints and round trips then still
   * tell of the frames sent before it), in ms. */
  cooldownMs: 1000,
  /** No increase for this long after a decrease, in ms. */
  holdMs: 2000,
  /** Rate increase per second near the remembered limit; four times this away from it. */
  probeFps: 1,
  /** Probe only while the median round trip is under this share of the budget. */
  probeBelow: 0.8,
  /** Multiplicative decrease of the rate. */
  backoff: 0.8,
  /** H.264: the bitrate's range and start, bits per second (640x480 at 30 fps). */
  minBitrate: 250_000,
  maxBitrate: 2_000_000,
  startBitrate: 1_000_000,
  /** H.264: multiplicative decrease of the bitrate. */
  bitrateBackoff: 0.7,
  /** H.264: bitrate increase a second while probing, as a share of the bitrate. */
  bitrateProbe: 0.08,
});

const SEND_WINDOW_MS = 1000;

const clamp = (value, lo, hi) => Math.min(hi, Math.max(lo, value));

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** What the controller did at one decision, for `onAdapt` callbacks and logs. */
export const AdaptReason = Object.freeze({
  HINT: 'hint',
  LATENCY: 'latency',
  /** H.264: the send buffer filled (the uplink is slower than the bitrate). */
  CONGESTION: 'congestion',
  PROBE: 'probe',
});

export class AdaptiveController {
  /**
   * @param {Partial<typeof ADAPT_DEFAULTS>} [options]
   * @param {number} [nowMs] the time of creation (the hold before the first probe starts here)
   */
  constructor(options = {}, nowMs = 0) {
    this.options = { ...ADAPT_DEFAULTS, ...options };
    const o = this.options;
    /** JPEG quality to encode the next frame with (0.5–0.9 by default). */
    this.quality = o.maxQuality;
    /** Most frames a second to send. */
    this.targetFps = o.maxFps;
    /** Send rate at which the last limit (hint, refusal, latency) was met; Infinity: none. */
    this.limitFps = Infinity;
    this.lastDecisionMs = nowMs;
    this.lastDecreaseMs = -Infinity;
    this.pendingHintFps = null;
    this.sendTimes = [];
    this.latencies = [];
    /** The last median round trip (ms), NaN before the first. */
    this.latencyMs = NaN;
    /** H.264: the encoder's target bitrate, bits per second. */
    this.bitrate = clamp(o.startBitrate, o.minBitrate, o.maxBitrate);
    /** Whether the stream sends H.264 (the bitrate adapts) rather than JPEG (the quality). */
    this.video = o.video === true;
    this.congestion = false;
    /** H.264: the bitrate at which the uplink last filled; Infinity: none known. */
    this.limitBitrate = Infinity;
  }

  /** Switches between JPEG (`false`: quality adapts) and H.264 (`true`: bitrate adapts). */
  setVideo(video) {
    this.video = video;
  }

  /** H.264: the send buffer is filling (the uplink is slower than the bitrate). */
  congested() {
    this.congestion = true;
  }

  /** Counts a frame sent at `nowMs`. */
  sent(nowMs) {
    this.sendTimes.push(nowMs);
    this.trimSends(nowMs);
  }

  /** Frames a second actually sent over the last second. */
  sentFps(nowMs) {
    this.trimSends(nowMs);
    return this.sendTimes.length / (SEND_WINDOW_MS / 1000);
  }

  trimSends(nowMs) {
    while (this.sendTimes.length > 0 && nowMs - this.sendTimes[0] > SEND_WINDOW_MS) this.sendTimes.shift();
  }

  /** A measured round trip in ms (a frame's send to its result). */
  latency(ms) {
    if (Number.isFinite(ms) && ms >= 0) this.latencies.push(ms);
  }

  /**
   * The server's `rate` hint: it processes `processingFps` and asks for at most
   * `maxSendFps`. A `rate_limited` refusal is a hint without a figure (`hint()`).
   */
  hint(maxSendFps = Infinity) {
    const fps = maxSendFps > 0 ? maxSendFps : Infinity;
    this.pendingHintFps = Math.min(this.pendingHintFps ?? Infinity, fps);
  }

  /**
   * Decides, at most once per `intervalMs`; returns the reason when the quality or the rate
   * changed (see {@link AdaptReason}), else null.
   */
  update(nowMs) {
    const o = this.options;
    const elapsedMs = nowMs - this.lastDecisionMs;
    if (elapsedMs < o.intervalMs) return null;
    this.lastDecisionMs = nowMs;
    const sentFps = this.sentFps(nowMs);
    const latencies = this.latencies;
    this.latencies = [];
    if (latencies.length > 0) this.latencyMs = median(latencies);
    const before = [this.quality, this.targetFps, this.bitrate];
    let reason = null;
    // After a decrease, the frames sent before it still come back late for a while.
    const cooling = nowMs - this.lastDecreaseMs < o.cooldownMs;
    if (cooling) {
      this.pendingHintFps = null;
      this.congestion = false;
    }
    const overBudget = latencies.length > 0 && this.latencyMs > o.budgetMs;
    if (!cooling && this.video && this.pendingHintFps === null && (overBudget || this.congestion)
      && this.bitrate > o.minBitrate) {
      // H.264, the uplink: fewer bits, the same rate.
      reason = this.congestion && !overBudget ? AdaptReason.CONGESTION : AdaptReason.LATENCY;
      const far = overBudget && this.latencyMs > 2 * o.budgetMs;
      this.limitBitrate = this.bitrate;
      this.bitrate = clamp(this.bitrate * o.bitrateBackoff ** (far ? 2 : 1), o.minBitrate, o.maxBitrate);
      this.lastDecreaseMs = nowMs;
      this.congestion = false;
    } else if (!cooling && (this.pendingHintFps !== null || overBudget || (this.video && this.congestion))) {
      reason = this.pendingHintFps !== null ? AdaptReason.HINT : AdaptReason.LATENCY;
      // What was being sent when the limit was met (the target may be far above it).
      const base = Math.min(this.targetFps, sentFps > 0 ? sentFps : this.targetFps, this.pendingHintFps ?? Infinity);
      this.limitFps = base;
      this.targetFps = clamp(base * o.backoff, o.minFps, o.maxFps);
      // Far over the budget: two quality steps.
      const steps = reason === AdaptReason.LATENCY && this.latencyMs > 2 * o.budgetMs ? 2 : 1;
      this.quality = clamp(this.quality - steps * o.qualityStep, o.minQuality, o.maxQuality);
      this.lastDecreaseMs = nowMs;
      this.pendingHintFps = null;
      this.congestion = false;
    } else if (latencies.length > 0 && this.latencyMs <= o.probeBelow * o.budgetMs
      && nowMs - this.lastDecreaseMs >= o.holdMs) {
      reason = AdaptReason.PROBE;
      const nearLimit = this.targetFps >= 0.9 * this.limitFps && this.targetFps <= 1.2 * this.limitFps;
      const step = o.probeFps * (nearLimit ? 1 : 4) * Math.min(elapsedMs, 2 * o.intervalMs) / 1000;
      // Not far past what is actually sent (a camera or the server may hold it lower).
      const ceiling = Math.max(sentFps * 1.5 + 2, o.minFps);
      this.targetFps = clamp(Math.min(this.targetFps + step, Math.max(ceiling, this.targetFps)), o.minFps, o.maxFps);
      this.quality = clamp(this.quality + o.qualityStep / 2, o.minQuality, o.maxQuality);
      if (this.video) {
        const seconds = Math.min(elapsedMs, 2 * o.intervalMs) / 1000;
        const nearLimitBitrate = this.bitrate >= 0.85 * this.limitBitrate;
        const probe = o.bitrateProbe * (nearLimitBitrate ? 0.25 : 1);
        this.bitrate = clamp(this.bitrate * (1 + probe * seconds), o.minBitrate, o.maxBitrate);
        if (this.bitrate > 1.1 * this.limitBitrate) this.limitBitrate = Infinity;
      }
      if (this.targetFps > 1.2 * this.limitFps) this.limitFps = Infinity;
    }
    const changed = this.quality !== before[0] || this.targetFps !== before[1] || this.bitrate !== before[2];
    return changed ? reason : null;
  }

  /** Whether a frame may be sent at `nowMs`, the last one having gone at `lastSendMs`. */
  allows(nowMs, lastSendMs) {
    return nowMs - lastSendMs >= 1000 / this.targetFps;
  }

  /** The state, for display and tests. */
  snapshot() {
    return {
      quality: Math.round(this.quality * 1000) / 1000,
      targetFps: Math.round(this.targetFps * 100) / 100,
      bitrate: Math.round(this.bitrate),
      latencyMs: this.latencyMs,
      limitFps: this.limitFps,
      limitBitrate: this.limitBitrate,
    };
  }
}
