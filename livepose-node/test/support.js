// Shared test helpers: the test clips and models, frames cut by ffmpeg.
//
// Where they are (the same rules as the Rust tests' livepose-test-support/src/data.rs): clips in
// $LIVEPOSE_MEDIA, else $LIVEPOSE_SHARED/media when LIVEPOSE_SHARED is set, else
// ~/.cache/livepose/media (scripts/fetch-media.sh); models in $LIVEPOSE_MODELS, else
// $LIVEPOSE_SHARED/models, else ~/.cache/livepose/models (scripts/fetch-models.sh).
// ~/.cache is $XDG_CACHE_HOME when set. scripts/test-data.sh fetches everything.
'use strict';
const assert = require('node:assert');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const REPO = path.resolve(__dirname, '../..');
const LAB = 'lab_dance_1080x1920_60fps.mp4';
const VECTORS = path.join(REPO, 'livepose-core', 'tests', 'vectors');
const MODEL_STEMS = ['pose_detection', 'pose_landmark_lite', 'pose_landmark_full', 'palm_detection_lite',
  'palm_detection_full', 'hand_landmark_lite', 'hand_landmark_full'];

function dataDir(variable, name) {
  if (process.env[variable]) return process.env[variable];
  if (process.env.LIVEPOSE_SHARED) return path.join(process.env.LIVEPOSE_SHARED, name);
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'livepose', name);
}

const MEDIA = dataDir('LIVEPOSE_MEDIA', 'media');
const MODELS = dataDir('LIVEPOSE_MODELS', 'models');

/** The models folder, checked to hold every model as `.onnx`. */
function modelsDir() {
  for (const stem of MODEL_STEMS) {
    const file = path.join(MODELS, `${stem}.onnx`);
    assert.ok(fs.existsSync(file), `missing model ${file}: fetch MediaPipe's models with `
      + `\`bash scripts/fetch-models.sh ${MODELS}\` (\`livepose models fetch ${MODELS}\`), `
      + 'or set LIVEPOSE_MODELS to a folder that has them');
  }
  return MODELS;
}

/** The clip `clip`, which must exist. */
function clipPath(clip) {
  const file = path.join(MEDIA, clip);
  assert.ok(fs.existsSync(file), `missing clip ${file}: fetch the clips with \`bash scripts/fetch-media.sh ${MEDIA}\` `
    + '(or set LIVEPOSE_MEDIA to a folder that has them)');
  return file;
}

const cache = new Map();

/** Frame `index` of `clip` as a JPEG, scaled to `size` ("W:H") if given. */
function jpegFrame(clip, index, size = '') {
  const key = `${clip}/${index}/${size}`;
  if (!cache.has(key)) {
    const filter = `select=eq(n\\,${index})${size ? `,scale=${size}` : ''}`;
    cache.set(key, execFileSync('ffmpeg', ['-v', 'error', '-i', clipPath(clip), '-vf', filter,
      '-frames:v', '1', '-f', 'image2pipe', '-c:v', 'mjpeg', '-q:v', '3', '-'], { maxBuffer: 64 << 20 }));
  }
  return cache.get(key);
}

module.exports = {
  MEDIA, LAB, VECTORS, clipPath, jpegFrame,
  // Checked when a test takes it (the codec tests need no models).
  get MODELS() { return modelsDir(); },
};
