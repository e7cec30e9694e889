// The JavaScript codec against the golden vectors of livepose-core/tests/vectors/ (docs/protocol.md §9):
// every valid vector decodes to exactly its JSON description, every frame vector an
// encoder must produce is produced byte for byte, every invalid vector is rejected with
// its error code. Floats in the vectors are exact f32 values, so comparisons are exact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

import {
  decodeFrame, decodeResult, encodeFrame, encodeFrameHeader, FrameFlags, ImageFormat, isKeyframe,
  KeyframeReason, nalUnitTypes, ProtocolError, HANDEDNESS,
} from '../js/protocol.js';

const VECTORS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../livepose-core/tests/vectors');
const FORMATS = {
  jpeg: ImageFormat.JPEG, png: ImageFormat.PNG, webp: ImageFormat.WEBP, rgb8: ImageFormat.RGB8, rgba8: ImageFormat.RGBA8, h264: ImageFormat.H264,
};

// JSON.parse rounds integers beyond 2^53; read them as BigInt instead.
function parseExact(text) {
  return JSON.parse(text.replace(/([:[,]\s*)(-?\d{16,})(?=\s*[,\]}])/g, '$1"#$2"'), (_, v) =>
    typeof v === 'string' && v.startsWith('#') ? BigInt(v.slice(1)) : v);
}

function hexBytes(text) {
  const digits = text.replace(/\s+/g, '');
  return Uint8Array.from(digits.match(/../g) ?? [], (pair) => parseInt(pair, 16));
}

function vectors() {
  return readdirSync(VECTORS)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => ({
      name: name.slice(0, -5),
      spec: parseExact(readFileSync(path.join(VECTORS, name), 'utf8')),
      bytes: hexBytes(readFileSync(path.join(VECTORS, name.replace(/\.json$/, '.hex')), 'utf8')),
    }));
}

// A fresh, 4-aligned ArrayBuffer holding the message, as a WebSocket delivers it.
function asArrayBuffer(bytes) {
  return bytes.slice().buffer;
}

const flat = (rows) => rows.flat();

function expectResult(decoded, spec) {
  for (const [key, field] of [
    ['sequence', 'sequence'], ['captureTsUs', 'capture_ts_us'], ['serverRecvUs', 'server_recv_us'],
    ['serverStartUs', 'server_start_us'], ['serverEndUs', 'server_end_us'], ['framesDropped', 'frames_dropped'],
  ]) {
    assert.equal(decoded[key], BigInt(spec[field]), field);
  }
  assert.equal(decoded.flags, spec.flags);
  assert.deepEqual(decoded.timingsUs, spec.timings_us);
  assert.equal(decoded.poses.length, spec.poses.length);
  decoded.poses.forEach((pose, i) => {
    const want = spec.poses[i];
    assert.equal(pose.id, want.id);
    assert.equal(pose.score, want.score);
    assert.deepEqual(pose.bbox, want.bbox);
    assert.deepEqual(Array.from(pose.landmarks), flat(want.landmarks));
    assert.deepEqual(Array.from(pose.worldLandmarks), flat(want.world_landmarks));
    assert.deepEqual(pose.angles.map((a) => [a.joint, a.degrees]), want.angles);
    assert.equal(pose.hands.length, want.hands.length);
    pose.hands.forEach((hand, j) => {
      const h = want.hands[j];
      assert.equal(hand.handedness, HANDEDNESS[h.handedness] ?? 'unknown');
      assert.equal(hand.score, h.score);
      assert.deepEqual(Array.from(hand.landmarks), flat(h.landmarks));
      assert.deepEqual(Array.from(hand.worldLandmarks), flat(h.world_landmarks));
    });
  });
}

const all = vectors();

test('the vectors are there', () => {
  assert.ok(all.length >= 20, `${all.length} vectors in ${VECTORS}`);
  for (const kind of ['frame', 'result', 'invalid']) {
    assert.ok(all.some((v) => v.spec.kind === kind), kind);
  }
});

for (const { name, spec, bytes } of all) {
  test(name, () => {
    if (spec.kind === 'result') {
      expectResult(decodeResult(asArrayBuffer(bytes)), spec);
      // Unaligned input (a view at an odd offset) decodes to the same values, copied.
      const shifted = new Uint8Array(bytes.length + 1);
      shifted.set(bytes, 1);
      expectResult(decodeResult(shifted.subarray(1)), spec);
    } else if (spec.kind === 'frame') {
      const frame = decodeFrame(asArrayBuffer(bytes));
      assert.equal(frame.sequence, BigInt(spec.sequence));
      assert.equal(frame.captureTsUs, BigInt(spec.capture_ts_us));
      assert.equal(frame.format, FORMATS[spec.format]);
      assert.equal(frame.width, spec.width);
      assert.equal(frame.height, spec.height);
      assert.equal(frame.flags, spec.flags);
      assert.deepEqual(frame.payload, hexBytes(spec.payload_hex));
      if (spec.encoder !== false) {
        const encoded = encodeFrame({
          sequence: spec.sequence, captureTsUs: spec.capture_ts_us, format: FORMATS[spec.format],
          width: spec.width, height: spec.height, flags: spec.flags,
        }, hexBytes(spec.payload_hex));
        assert.deepEqual(encoded, bytes);
      }
    } else {
      const decode = spec.decoder === 'frame' ? decodeFrame : decodeResult;
      assert.throws(() => decode(asArrayBuffer(bytes)), (e) => {
        assert.ok(e instanceof ProtocolError, String(e));
        assert.equal(e.code, spec.error, e.message);
        return true;
      });
    }
  });
}

test('the H.264 vectors: the KEYFRAME flag says what the NAL units hold', () => {
  const h264 = all.filter((v) => v.spec.kind === 'frame' && v.spec.format === 'h264');
  assert.ok(h264.length >= 2, 'an H.264 keyframe and delta frame');
  for (const { name, spec } of h264) {
    const payload = hexBytes(spec.payload_hex);
    const key = (spec.flags & FrameFlags.KEYFRAME) !== 0;
    assert.equal(isKeyframe(payload), key, name);
    const types = nalUnitTypes(payload);
    assert.ok(types.includes(key ? 5 : 1), `${name}: ${types}`);
    if (key) assert.deepEqual(types.filter((t) => t === 7 || t === 8), [7, 8], name);
  }
});

// Control messages (docs/protocol.md §9): `text` parses to `message`; the reasons of a
// keyframe_request are the protocol's.
const CONTROL = path.join(VECTORS, 'control');
const controls = readdirSync(CONTROL).filter((n) => n.endsWith('.json')).sort()
  .map((n) => ({ name: n.slice(0, -5), spec: JSON.parse(readFileSync(path.join(CONTROL, n), 'utf8')) }));

test('the control vectors are there', () => {
  assert.ok(controls.some((c) => c.spec.message.type === 'keyframe_request'));
});

for (const { name, spec } of controls) {
  test(`control ${name}`, () => {
    assert.equal(spec.kind, 'control');
    const parsed = JSON.parse(spec.text);
    assert.deepEqual(parsed, spec.message);
    if (parsed.type === 'keyframe_request') {
      assert.ok(Object.values(KeyframeReason).includes(parsed.reason), parsed.reason);
    }
  });
}

test('a message over the size limit is oversized before anything else is read', () => {
  assert.throws(() => decodeResult(new Uint8Array(100), { maxMessageBytes: 99 }), { code: 'oversized' });
});

test('every prefix of a valid result is rejected as truncated, never read past its end', () => {
  const { bytes } = all.find((v) => v.name === 'result_two_poses_hands');
  for (let len = 0; len < bytes.length; len++) {
    assert.throws(() => decodeResult(bytes.subarray(0, len)), (e) => e instanceof ProtocolError, `length ${len}`);
  }
});

test('the header encoder refuses what the decoder would reject', () => {
  assert.throws(() => encodeFrameHeader({ sequence: 1, captureTsUs: 0, format: 9, payloadLength: 0 }), { code: 'unknown_image_format' });
  assert.throws(() => encodeFrameHeader({ sequence: 1, captureTsUs: 0, format: 7, payloadLength: 0 }), { code: 'unknown_image_format' });
  // H.264 is an encoded format: no dimensions on the wire, whatever the caller passes.
  const header = encodeFrameHeader({ sequence: 1, captureTsUs: 0, format: ImageFormat.H264, width: 640, height: 480, payloadLength: 5 });
  assert.deepEqual(Array.from(header.subarray(28, 36)), [0, 0, 0, 0, 0, 0, 0, 0]);
  assert.throws(() => encodeFrameHeader({ sequence: 1, captureTsUs: 0, format: ImageFormat.RGB8, width: 0, height: 2, payloadLength: 0 }), { code: 'bad_dimensions' });
  assert.throws(() => encodeFrameHeader({ sequence: 1, captureTsUs: 0, format: ImageFormat.RGB8, width: 2, height: 2, payloadLength: 11 }), { code: 'inconsistent' });
});
