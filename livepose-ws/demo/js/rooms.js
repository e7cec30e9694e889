// What a room viewer receives, told apart and turned into drawable poses; the viewer page
// (viewer.js) uses it, test/viewer.test.js covers it in Node. Pure functions.
import { decodeFrame, decodeResult } from './protocol.js';

const JPEG_SOI = [0xff, 0xd8, 0xff];
const MAGIC = [0x4c, 0x50, 0x4f, 0x53]; // "LPOS"

// MoveNet's 17 keypoints (the JSON result's `body`, protocol §7) as BlazePose indices.
const MOVENET_TO_BLAZEPOSE = [0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28];
const POSE_STRIDE = 5;
const BLAZEPOSE_LANDMARKS = 33;

function startsWith(bytes, prefix) {
  return bytes.length >= prefix.length && prefix.every((b, i) => bytes[i] === b);
}

/**
 * One message of a viewer socket, classified:
 * - `{kind: 'result', result}`: a protocol v1 result (§4), decoded;
 * - `{kind: 'frame', frame}`: the camera's frame message (§3, `?frames=1`), decoded;
 * - `{kind: 'jpeg', bytes}`: a bare JPEG (`?frames=annotated`: skeletons already drawn);
 * - `{kind: 'json', result}`: a §7 JSON result (a camera that asked for JSON results);
 * - `{kind: 'control', message}`: a control message (§6.2), e.g. an error;
 * - `{kind: 'unknown', why}`.
 * @param {string | ArrayBuffer | Uint8Array} data
 */
export function classifyMessage(data) {
  if (typeof data === 'string') {
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      return { kind: 'unknown', why: 'text that is not JSON' };
    }
    if (message && typeof message.type === 'string') return { kind: 'control', message };
    if (message && Array.isArray(message.body)) return { kind: 'json', result: message };
    return { kind: 'unknown', why: 'JSON that is neither a result nor a control message' };
  }
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
  if (startsWith(bytes, JPEG_SOI)) return { kind: 'jpeg', bytes };
  if (startsWith(bytes, MAGIC) && bytes.length > 5) {
    try {
      if (bytes[5] === 2) return { kind: 'result', result: decodeResult(bytes) };
      if (bytes[5] === 1) return { kind: 'frame', frame: decodeFrame(bytes) };
    } catch (e) {
      return { kind: 'unknown', why: String(e.message ?? e) };
    }
  }
  return { kind: 'unknown', why: `binary message of ${bytes.length} bytes` };
}

/**
 * The first pose of a §7 JSON result (17 keypoints in pixels) as a drawable pose (33
 * BlazePose landmarks, normalised by the frame's `width` × `height`; the landmarks the
 * JSON shape lacks are invisible). Empty when the result has no body.
 */
export function posesFromJson(result, width, height) {
  if (!Array.isArray(result.body) || result.body.length === 0) return [];
  const landmarks = new Float32Array(BLAZEPOSE_LANDMARKS * POSE_STRIDE);
  result.body.forEach((point, i) => {
    const at = MOVENET_TO_BLAZEPOSE[i];
    if (at === undefined || point == null) return;
    const visibility = (Number(point.confidence) || 0) / 100;
    landmarks.set([point.x / width, point.y / height, 0, visibility, visibility], at * POSE_STRIDE);
  });
  return [{ id: 0, landmarks, hands: [] }];
}

/** The viewer socket's URL for `room` on the page at `pageUrl` (`frames`: '', '1' or 'annotated'). */
export function viewUrl(pageUrl, room, { frames = '', token = '' } = {}) {
  const url = new URL(`/ws/rooms/${encodeURIComponent(room)}/view`, pageUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  if (frames) url.searchParams.set('frames', frames);
  if (token) url.searchParams.set('token', token);
  return url.href;
}

/** The rooms of a `GET /rooms` answer (`{"rooms": [...]}`), each `{room, camera, viewers}`. */
export function roomsOf(answer) {
  const rooms = Array.isArray(answer?.rooms) ? answer.rooms : [];
  return rooms.filter((r) => typeof r?.room === 'string').map((r) => ({
    room: r.room, camera: r.camera ?? null, viewers: Number(r.viewers) || 0,
  }));
}
