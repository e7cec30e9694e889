// Skeletons on a canvas: BlazePose and hand connections, interpolation between results,
// drawing. Pure functions and one small class; test/skeleton.test.js covers them in Node.

/** BlazePose's 33-landmark connections (MediaPipe's POSE_CONNECTIONS). */
export const POSE_CONNECTIONS = Object.freeze([
  [0, 1], [1, 2], [2, 3], [3, 7], [0, 4], [4, 5], [5, 6], [6, 8], [9, 10],
  [11, 12], [11, 13], [13, 15], [15, 17], [15, 19], [15, 21], [17, 19],
  [12, 14], [14, 16], [16, 18], [16, 20], [16, 22], [18, 20],
  [11, 23], [12, 24], [23, 24], [23, 25], [24, 26], [25, 27], [26, 28],
  [27, 29], [28, 30], [29, 31], [30, 32], [27, 31], [28, 32],
]);

/** The 21-landmark hand connections (MediaPipe's HAND_CONNECTIONS). */
export const HAND_CONNECTIONS = Object.freeze([
  [0, 1], [1, 2], [2, 3], [3, 4], [0, 5], [5, 6], [6, 7], [7, 8], [5, 9], [9, 10], [10, 11],
  [11, 12], [9, 13], [13, 14], [14, 15], [15, 16], [13, 17], [0, 17], [17, 18], [18, 19], [19, 20],
]);

const POSE_STRIDE = 5; // x, y, z, visibility, presence
const HAND_STRIDE = 3; // x, y, z

/** Writes `a + (b - a) * t` element-wise into `out` (all the same length). */
export function lerpInto(out, a, b, t) {
  for (let i = 0; i < out.length; i++) out[i] = a[i] + (b[i] - a[i]) * t;
  return out;
}

/**
 * Keeps the two latest results and gives, at display time, the poses moved smoothly from
 * the previous result to the latest over one result interval. Results arrive at 10–30 Hz
 * and the display runs at 60 Hz; without this the skeleton jumps at each result.
 * A pose is matched to the previous result's pose by track id, a hand by handedness; what
 * has no match is drawn as it is. Buffers are reused, so drawing allocates nothing per
 * frame once every track has been seen.
 */
export class PoseInterpolator {
  constructor() {
    this.prev = null;
    this.last = null;
    this.buffers = new Map();
  }

  /**
   * Takes a decoded result that arrived at `arrivedMs` (any monotonic clock in ms, the same
   * one later passed to {@link sample}).
   */
  push(result, arrivedMs) {
    this.prev = this.last;
    this.last = { poses: result.poses, captureMs: Number(result.captureTsUs) / 1000, arrivedMs };
  }

  /** Forgets both results (a new video source, a reconnect). */
  clear() {
    this.prev = null;
    this.last = null;
  }

  /** The progress `t` in 0..1 from the previous result's poses to the latest ones. */
  progress(nowMs) {
    if (!this.last || !this.prev) return 1;
    const interval = Math.max(this.last.captureMs - this.prev.captureMs, 1);
    return Math.min(Math.max((nowMs - this.last.arrivedMs) / interval, 0), 1);
  }

  /** The poses to draw at `nowMs`: `{id, landmarks, hands: [{handedness, landmarks}]}`. */
  sample(nowMs) {
    if (!this.last) return [];
    const t = this.progress(nowMs);
    const before = new Map((this.prev?.poses ?? []).map((p) => [p.id, p]));
    return this.last.poses.map((pose) => {
      const old = before.get(pose.id);
      if (!old || old.landmarks.length !== pose.landmarks.length || t >= 1) return pose;
      const hands = pose.hands.map((hand, i) => {
        const oldHand = old.hands.find((h) => h.handedness === hand.handedness);
        if (!oldHand || oldHand.landmarks.length !== hand.landmarks.length) return hand;
        const buffer = this.buffer(`${pose.id}/hand${i}`, hand.landmarks.length);
        return { ...hand, landmarks: lerpInto(buffer, oldHand.landmarks, hand.landmarks, t) };
      });
      const landmarks = lerpInto(this.buffer(pose.id, pose.landmarks.length), old.landmarks, pose.landmarks, t);
      return { ...pose, landmarks, hands };
    });
  }

  buffer(key, length) {
    let buffer = this.buffers.get(key);
    if (!buffer || buffer.length !== length) {
      buffer = new Float32Array(length);
      this.buffers.set(key, buffer);
    }
    return buffer;
  }
}

/**
 * Draws poses (normalised coordinates, as decoded) on a 2D context of `width` × `height`
 * pixels. Landmarks with visibility below `minVisibility` and the bones touching them are
 * left out. Returns the number of bones drawn.
 */
export function drawPoses(ctx, poses, width, height, { minVisibility = 0.5, color = '#00e676', handColor = '#ffab00' } = {}) {
  let bones = 0;
  ctx.lineCap = 'round';
  ctx.lineWidth = Math.max(2, Math.round(Math.min(width, height) / 160));
  for (const pose of poses) {
    const lm = pose.landmarks;
    const seen = (i) => lm[i * POSE_STRIDE + 3] >= minVisibility;
    ctx.strokeStyle = color;
    ctx.beginPath();
    for (const [a, b] of POSE_CONNECTIONS) {
      if ((a + 1) * POSE_STRIDE > lm.length || (b + 1) * POSE_STRIDE > lm.length) continue;
      if (!seen(a) || !seen(b)) continue;
      ctx.moveTo(lm[a * POSE_STRIDE] * width, lm[a * POSE_STRIDE + 1] * height);
      ctx.lineTo(lm[b * POSE_STRIDE] * width, lm[b * POSE_STRIDE + 1] * height);
      bones++;
    }
    ctx.stroke();
    ctx.fillStyle = color;
    for (let i = 0; i * POSE_STRIDE < lm.length; i++) {
      if (!seen(i)) continue;
      ctx.fillRect(lm[i * POSE_STRIDE] * width - 2, lm[i * POSE_STRIDE + 1] * height - 2, 5, 5);
    }
    for (const hand of pose.hands ?? []) bones += drawHand(ctx, hand.landmarks, width, height, handColor);
  }
  return bones;
}

function drawHand(ctx, lm, width, height, color) {
  let bones = 0;
  ctx.strokeStyle = color;
  ctx.beginPath();
  for (const [a, b] of HAND_CONNECTIONS) {
    if ((b + 1) * HAND_STRIDE > lm.length || (a + 1) * HAND_STRIDE > lm.length) continue;
    ctx.moveTo(lm[a * HAND_STRIDE] * width, lm[a * HAND_STRIDE + 1] * height);
    ctx.lineTo(lm[b * HAND_STRIDE] * width, lm[b * HAND_STRIDE + 1] * height);
    bones++;
  }
  ctx.stroke();
  return bones;
}
