// encodeFrame / decodeFrame / decodeResult against the golden vectors of livepose-core/tests/vectors
// (docs/protocol.md section 9): the same bytes, values and error codes as the Rust,
// Python and browser codecs.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const livepose = require('..');
const { VECTORS } = require('./support');

const STAGES = ['decode', 'detect', 'crop', 'landmarks', 'hands', 'post', 'total'];
const HANDEDNESS = ['unknown', 'left', 'right'];

// JSON.parse rounds integers beyond 2^53; read them as BigInt.
function parseExact(text) {
  return JSON.parse(text.replace(/([:[,]\s*)(-?\d{16,})(?=\s*[,\]}])/g, '$1"#$2"'), (_, v) =>
    typeof v === 'string' && v.startsWith('#') ? BigInt(v.slice(1)) : v);
}

const vectors = fs.readdirSync(VECTORS).filter((f) => f.endsWith('.json')).sort().map((f) => ({
  name: f.slice(0, -5),
  spec: parseExact(fs.readFileSync(path.join(VECTORS, f), 'utf8')),
  bytes: Buffer.from(fs.readFileSync(path.join(VECTORS, f.replace(/json$/, 'hex')), 'utf8').replace(/\s+/g, ''), 'hex'),
}));

test('there are vectors of every kind', () => {
  assert.ok(vectors.length >= 20);
  assert.deepEqual(new Set(vectors.map((v) => v.spec.kind)), new Set(['frame', 'result', 'invalid']));
});

for (const { name, spec, bytes } of vectors) {
  test(name, () => {
    if (spec.kind === 'frame') {
      const frame = livepose.decodeFrame(bytes);
      assert.equal(frame.sequence, BigInt(spec.sequence));
      assert.equal(frame.captureTsUs, BigInt(spec.capture_ts_us));
      for (const field of ['format', 'width', 'height', 'flags']) assert.equal(frame[field], spec[field], field);
      assert.deepEqual(frame.payload, Buffer.from(spec.payload_hex, 'hex'));
      if (spec.encoder !== false) {
        const encoded = livepose.encodeFrame(Buffer.from(spec.payload_hex, 'hex'), {
          sequence: BigInt(spec.sequence), captureTsUs: BigInt(spec.capture_ts_us), format: spec.format,
          width: spec.width, height: spec.height, flags: spec.flags,
        });
        assert.deepEqual(encoded, bytes);
      }
    } else if (spec.kind === 'result') {
      const r = livepose.decodeResult(bytes);
      for (const [key, field] of [['sequence', 'sequence'], ['captureTsUs', 'capture_ts_us'], ['serverRecvUs', 'server_recv_us'],
        ['serverStartUs', 'server_start_us'], ['serverEndUs', 'server_end_us'], ['framesDropped', 'frames_dropped']]) {
        assert.equal(r[key], BigInt(spec[field]), field);
      }
      assert.equal(r.flags, spec.flags);
      assert.deepEqual(STAGES.map((s) => r.timings[s]), spec.timings_us);
      assert.equal(r.poses.length, spec.poses.length);
      r.poses.forEach((pose, i) => {
        const want = spec.poses[i];
        assert.equal(pose.id, want.id);
        assert.equal(pose.score, want.score);
        assert.deepEqual(pose.bbox, want.bbox);
        assert.ok(pose.landmarks instanceof Float32Array);
        assert.deepEqual(Array.from(pose.landmarks), want.landmarks.flat());
        assert.deepEqual(Array.from(pose.worldLandmarks), want.world_landmarks.flat());
        assert.deepEqual(pose.angles.map((a) => [a.joint, a.degrees]), want.angles);
        assert.equal(pose.hands.length, want.hands.length);
        pose.hands.forEach((hand, j) => {
          const h = want.hands[j];
          assert.equal(hand.handedness, HANDEDNESS[h.handedness] ?? 'unknown');
          assert.equal(hand.score, h.score);
          assert.deepEqual(Array.from(hand.landmarks), h.landmarks.flat());
          assert.deepEqual(Array.from(hand.worldLandmarks), h.world_landmarks.flat());
        });
      });
    } else {
      const decode = spec.decoder === 'frame' ? livepose.decodeFrame : livepose.decodeResult;
      assert.throws(() => decode(bytes), (e) => {
        assert.equal(e.code, 'ERR_LIVEPOSE_PROTOCOL', e.message);
        assert.equal(e.protocolCode, spec.error, e.message);
        return true;
      });
    }
  });
}

test('bad arguments are ERR_LIVEPOSE_CONFIG', () => {
  assert.throws(() => livepose.encodeFrame(Buffer.from('x'), { format: 'gif' }), { code: 'ERR_LIVEPOSE_CONFIG' });
  assert.throws(() => livepose.encodeFrame(Buffer.from('x'), { sequence: -1 }), { code: 'ERR_LIVEPOSE_CONFIG' });
  assert.throws(() => livepose.encodeFrame(Buffer.from('x'), { format: 'rgb8', width: 2, height: 2 }),
    { code: 'ERR_LIVEPOSE_PROTOCOL', protocolCode: 'inconsistent' });
});
