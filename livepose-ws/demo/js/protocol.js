// livepose wire protocol v1 in JavaScript: frame encoding and decoding, result decoding.
// The specification is docs/protocol.md; test/protocol.test.js checks this module against
// the golden vectors in livepose-core/tests/vectors/. No dependencies; runs in browsers and Node.
//
// 64-bit fields (sequence, timestamps, frames dropped) are BigInt, so no value is rounded.
// Landmark arrays are Float32Array views into the message when it is 4-byte aligned (an
// ArrayBuffer from a WebSocket always is), copies otherwise.

export const VERSION = 1;
export const FRAME_HEADER_LEN = 40;
export const RESULT_HEADER_LEN = 64;
const POSE_HEADER_LEN = 40;
const HAND_HEADER_LEN = 16;
const MAGIC = [0x4c, 0x50, 0x4f, 0x53]; // "LPOS"
const TYPE_FRAME = 1;
const TYPE_RESULT = 2;

/** Image format codes of the frame message (§3); H264: one access unit in Annex B form (§3.2). */
export const ImageFormat = Object.freeze({ JPEG: 1, PNG: 2, WEBP: 3, RGB8: 4, RGBA8: 5, H264: 6 });
const RAW_BYTES_PER_PIXEL = { 4: 3, 5: 4 };
const knownFormat = (format) => Number.isInteger(format) && format >= 1 && format <= 6;

/** Frame flag bits (§3); KEYFRAME: an H.264 IDR access unit with its SPS and PPS. */
export const FrameFlags = Object.freeze({ RESET_TRACKING: 1, KEYFRAME: 2 });

/** Why the server asks an H.264 stream for a keyframe (`keyframe_request`, §6.2). */
export const KeyframeReason = Object.freeze({
  START: 'start', DECODE_ERROR: 'decode_error', BEHIND: 'behind', JOIN: 'join',
});

/** Result flag bits (§4.1). */
export const ResultFlags = Object.freeze({
  TIMESTAMP_ADJUSTED: 1,
  DETECTOR_RAN: 2,
  TRACKING_RESET: 4,
  PALM_DETECTOR_RAN: 8,
});

/** Stage timing names, in wire order (§4.1). */
export const STAGES = Object.freeze(['decode', 'detect', 'crop', 'landmarks', 'hands', 'post', 'total']);

/** Joint names by joint id (§4.2). */
export const JOINTS = Object.freeze([
  'left_elbow', 'right_elbow', 'left_shoulder', 'right_shoulder', 'left_hip', 'right_hip',
  'left_knee', 'right_knee', 'left_ankle', 'right_ankle', 'trunk_lean',
]);

/** Handedness by code (§4.3); other codes read as 'unknown'. */
export const HANDEDNESS = Object.freeze(['unknown', 'left', 'right']);

/** Default size limit on a message, as the reference implementation's (16 MiB). */
export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/** A message that does not follow the protocol; `code` is one of §5's error codes. */
export class ProtocolError extends Error {
  constructor(code, message) {
    super(`${code}: ${message}`);
    this.name = 'ProtocolError';
    this.code = code;
  }
}

function bytesOf(message) {
  if (message instanceof Uint8Array) return message;
  if (message instanceof ArrayBuffer) return new Uint8Array(message);
  if (ArrayBuffer.isView(message)) {
    return new Uint8Array(message.buffer, message.byteOffset, message.byteLength);
  }
  throw new TypeError('a message is an ArrayBuffer or a typed array');
}

// Bounds-checked little-endian reads: every read past the end is a `truncated` error.
class Fields {
  constructor(bytes) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  need(at, len, what) {
    if (at + len > this.bytes.length) {
      throw new ProtocolError(
        'truncated',
        `${what} needs bytes ${at}..${at + len}, message has ${this.bytes.length}`,
      );
    }
  }

  u8(at, what) { this.need(at, 1, what); return this.view.getUint8(at); }
  u16(at, what) { this.need(at, 2, what); return this.view.getUint16(at, true); }
  u32(at, what) { this.need(at, 4, what); return this.view.getUint32(at, true); }
  u64(at, what) { this.need(at, 8, what); return this.view.getBigUint64(at, true); }
  i64(at, what) { this.need(at, 8, what); return this.view.getBigInt64(at, true); }
  f32(at, what) { this.need(at, 4, what); return this.view.getFloat32(at, true); }

  // `count` f32 values starting at `at`, viewed in place when aligned.
  f32s(at, count, what) {
    this.need(at, count * 4, what);
    const offset = this.bytes.byteOffset + at;
    if (offset % 4 === 0) return new Float32Array(this.bytes.buffer, offset, count);
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = this.view.getFloat32(at + 4 * i, true);
    return out;
  }
}

function inconsistent(message) {
  return new ProtocolError('inconsistent', message);
}

// Size limit, preamble, magic, version, type, header length: §5's order.
function parsePreamble(fields, expectedType, minHeaderLen, maxMessageBytes) {
  const length = fields.bytes.length;
  if (length > maxMessageBytes) {
    throw new ProtocolError('oversized', `message of ${length} bytes, limit ${maxMessageBytes}`);
  }
  fields.need(0, 8, 'preamble');
  for (let i = 0; i < 4; i++) {
    if (fields.bytes[i] !== MAGIC[i]) {
      throw new ProtocolError('bad_magic', 'message does not start with "LPOS"');
    }
  }
  const version = fields.u8(4, 'version');
  if (version !== VERSION) {
    throw new ProtocolError('unsupported_version', `version ${version}, this decoder speaks ${VERSION}`);
  }
  const type = fields.u8(5, 'message type');
  if (type !== expectedType) {
    throw new ProtocolError('unexpected_type', `message type ${type}, expected ${expectedType}`);
  }
  const headerLen = fields.u16(6, 'header length');
  if (headerLen < minHeaderLen || headerLen % 4 !== 0) {
    throw inconsistent(`header length ${headerLen} (needs a multiple of 4, at least ${minHeaderLen})`);
  }
  fields.need(0, headerLen, 'header');
  return headerLen;
}

/**
 * Encodes the 40-byte header of a frame message carrying `payloadLength` bytes of image.
 * Send it with the image as one message: `ws.send(new Blob([header, jpegBlob]))`.
 *
 * @param {{sequence: bigint|number, captureTsUs: bigint|number, format?: number,
 *          width?: number, height?: number, flags?: number, payloadLength: number}} frame
 * @returns {Uint8Array}
 */
export function encodeFrameHeader(frame) {
  const format = frame.format ?? ImageFormat.JPEG;
  const width = frame.width ?? 0;
  const height = frame.height ?? 0;
  if (!knownFormat(format)) throw new ProtocolError('unknown_image_format', `format ${format}`);
  const perPixel = RAW_BYTES_PER_PIXEL[format];
  if (perPixel !== undefined) {
    if (width === 0 || height === 0) throw new ProtocolError('bad_dimensions', `raw frame ${width}x${height}`);
    if (width * height * perPixel !== frame.payloadLength) {
      throw inconsistent(`raw ${width}x${height} needs ${width * height * perPixel} payload bytes, got ${frame.payloadLength}`);
    }
  }
  const header = new Uint8Array(FRAME_HEADER_LEN);
  const view = new DataView(header.buffer);
  header.set(MAGIC, 0);
  view.setUint8(4, VERSION);
  view.setUint8(5, TYPE_FRAME);
  view.setUint16(6, FRAME_HEADER_LEN, true);
  view.setBigUint64(8, BigInt(frame.sequence), true);
  view.setBigInt64(16, BigInt(frame.captureTsUs), true);
  view.setUint8(24, format);
  view.setUint16(26, frame.flags ?? 0, true);
  view.setUint32(28, perPixel === undefined ? 0 : width, true);
  view.setUint32(32, perPixel === undefined ? 0 : height, true);
  view.setUint32(36, frame.payloadLength, true);
  return header;
}

/**
 * Encodes a whole frame message (header and a copy of `payload`).
 *
 * @param {object} frame as for {@link encodeFrameHeader}, without `payloadLength`
 * @param {Uint8Array} payload the image bytes
 * @returns {Uint8Array}
 */
export function encodeFrame(frame, payload) {
  const header = encodeFrameHeader({ ...frame, payloadLength: payload.length });
  const out = new Uint8Array(header.length + payload.length);
  out.set(header, 0);
  out.set(payload, header.length);
  return out;
}

/**
 * Decodes a frame message (§3), as a room viewer with `?frames=1` receives them.
 *
 * @param {ArrayBuffer|ArrayBufferView} message
 * @returns {{sequence: bigint, captureTsUs: bigint, format: number, flags: number,
 *           width: number, height: number, payload: Uint8Array}}
 * @throws {ProtocolError}
 */
export function decodeFrame(message, { maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES } = {}) {
  const f = new Fields(bytesOf(message));
  const headerLen = parsePreamble(f, TYPE_FRAME, FRAME_HEADER_LEN, maxMessageBytes);
  const sequence = f.u64(8, 'sequence');
  const captureTsUs = f.i64(16, 'capture timestamp');
  const format = f.u8(24, 'image format');
  const flags = f.u16(26, 'flags');
  const width = f.u32(28, 'width');
  const height = f.u32(32, 'height');
  const payloadLength = f.u32(36, 'payload length');
  if (!knownFormat(format)) {
    throw new ProtocolError('unknown_image_format', `image format code ${format}`);
  }
  const perPixel = RAW_BYTES_PER_PIXEL[format];
  if (perPixel !== undefined && (width === 0 || height === 0)) {
    throw new ProtocolError('bad_dimensions', `raw frame ${width}x${height}`);
  }
  f.need(headerLen, payloadLength, 'payload');
  const actual = f.bytes.length - headerLen;
  if (actual !== payloadLength) {
    throw inconsistent(`payload length field says ${payloadLength} bytes, message carries ${actual}`);
  }
  if (perPixel !== undefined && width * height * perPixel !== payloadLength) {
    throw inconsistent(`raw ${width}x${height} needs ${width * height * perPixel} payload bytes, got ${payloadLength}`);
  }
  const isRaw = perPixel !== undefined;
  return {
    sequence,
    captureTsUs,
    format,
    flags,
    width: isRaw ? width : 0,
    height: isRaw ? height : 0,
    payload: f.bytes.subarray(headerLen, headerLen + payloadLength),
  };
}

// A record (pose or hand) at `at`: its length field is a multiple of 4, at least
// `minLen`, and the record lies inside `f`. Returns the record's bytes.
function recordAt(f, at, minLen, what) {
  const len = f.u32(at, what);
  if (len < minLen || len % 4 !== 0) {
    throw inconsistent(`${what} length ${len} (needs a multiple of 4, at least ${minLen})`);
  }
  f.need(at, len, what);
  return new Fields(f.bytes.subarray(at, at + len));
}

function recordHeaderLen(r, min, what) {
  const len = r.u16(4, what);
  if (len < min || len % 4 !== 0 || len > r.bytes.length) {
    throw inconsistent(`${what} header length ${len} (needs a multiple of 4, ${min}..=${r.bytes.length})`);
  }
  return len;
}

function arraysFit(recordLen, headerLen, sizes, what) {
  const needed = headerLen + sizes.reduce((sum, size) => sum + size, 0);
  if (needed > recordLen) {
    throw inconsistent(`${what} declares ${needed} bytes of arrays and header in a ${recordLen}-byte record`);
  }
  return needed;
}

function parseHand(r) {
  const headerLen = recordHeaderLen(r, HAND_HEADER_LEN, 'hand record');
  const n = r.u16(6, 'hand landmark count');
  const m = r.u16(8, 'hand world landmark count');
  arraysFit(r.bytes.length, headerLen, [12 * n, 12 * m], 'hand record');
  const code = r.u8(10, 'handedness');
  return {
    handedness: HANDEDNESS[code] ?? 'unknown',
    score: r.f32(12, 'hand score'),
    landmarks: r.f32s(headerLen, 3 * n, 'hand landmarks'),
    worldLandmarks: r.f32s(headerLen + 12 * n, 3 * m, 'hand world landmarks'),
  };
}

function parsePose(r) {
  const headerLen = recordHeaderLen(r, POSE_HEADER_LEN, 'pose record');
  const l = r.u16(6, 'landmark count');
  const w = r.u16(8, 'world landmark count');
  const a = r.u16(10, 'angle count');
  const h = r.u16(12, 'hand count');
  let at = arraysFit(r.bytes.length, headerLen, [20 * l, 12 * w, 8 * a], 'pose record');
  const hands = [];
  for (let i = 0; i < h; i++) {
    const hand = recordAt(r, at, HAND_HEADER_LEN, 'hand record');
    hands.push(parseHand(hand));
    at += hand.bytes.length;
  }
  const anglesAt = headerLen + 20 * l + 12 * w;
  const angles = [];
  for (let i = 0; i < a; i++) {
    const joint = r.u16(anglesAt + 8 * i, 'joint id');
    angles.push({ joint, name: JOINTS[joint] ?? null, degrees: r.f32(anglesAt + 8 * i + 4, 'angle') });
  }
  return {
    id: r.u32(16, 'track id'),
    score: r.f32(20, 'score'),
    bbox: [r.f32(24, 'bbox'), r.f32(28, 'bbox'), r.f32(32, 'bbox'), r.f32(36, 'bbox')],
    landmarks: r.f32s(headerLen, 5 * l, 'landmarks'),
    worldLandmarks: r.f32s(headerLen + 20 * l, 3 * w, 'world landmarks'),
    angles,
    hands,
  };
}

/**
 * Decodes a result message (§4).
 *
 * `landmarks` is a Float32Array of `x, y, z, visibility, presence` per landmark (33 × 5 for
 * BlazePose); `worldLandmarks` and hand arrays hold `x, y, z` per point. `timingsUs` has the
 * seven stages of {@link STAGES} (stages a shorter list lacks read as 0).
 *
 * @param {ArrayBuffer|ArrayBufferView} message
 * @param {{maxMessageBytes?: number}} [options]
 * @throws {ProtocolError} naming the §5 error code
 */
export function decodeResult(message, { maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES } = {}) {
  const f = new Fields(bytesOf(message));
  const headerLen = parsePreamble(f, TYPE_RESULT, RESULT_HEADER_LEN, maxMessageBytes);
  const timingCount = f.u16(58, 'timing count');
  const poseCount = f.u16(60, 'pose count');
  f.need(headerLen, timingCount * 4, 'timings');
  const timingsUs = new Array(STAGES.length).fill(0);
  for (let i = 0; i < Math.min(timingCount, STAGES.length); i++) {
    timingsUs[i] = f.u32(headerLen + 4 * i, 'timing');
  }
  const poses = [];
  let at = headerLen + timingCount * 4;
  for (let i = 0; i < poseCount; i++) {
    const record = recordAt(f, at, POSE_HEADER_LEN, 'pose record');
    poses.push(parsePose(record));
    at += record.bytes.length;
  }
  return {
    sequence: f.u64(8, 'sequence'),
    captureTsUs: f.i64(16, 'capture timestamp'),
    serverRecvUs: f.u64(24, 'server receive time'),
    serverStartUs: f.u64(32, 'server start time'),
    serverEndUs: f.u64(40, 'server end time'),
    framesDropped: f.u64(48, 'frames dropped'),
    flags: f.u16(56, 'flags'),
    timingsUs,
    poses,
  };
}

/**
 * The NAL unit types of an H.264 access unit in Annex B form (§3.2), in order: 7 SPS, 8 PPS,
 * 5 IDR slice, 1 other slice, …
 *
 * @param {Uint8Array} bytes
 * @returns {number[]}
 */
export function nalUnitTypes(bytes) {
  const types = [];
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (bytes[i] === 0 && bytes[i + 1] === 0 && bytes[i + 2] === 1) {
      types.push(bytes[i + 3] & 0x1f);
      i += 2;
    }
  }
  return types;
}

/**
 * Whether an H.264 access unit is a keyframe as §3.2 defines it: an IDR slice with its SPS
 * and PPS.
 *
 * @param {Uint8Array} bytes
 */
export function isKeyframe(bytes) {
  const types = nalUnitTypes(bytes);
  return types.includes(5) && types.includes(7) && types.includes(8);
}
