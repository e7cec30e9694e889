// Shared test helpers: the shared clips and models beside the checkout, frames cut by ffmpeg.
'use strict';
const { execFileSync } = require('node:child_process');
const path = require('node:path');

const REPO = path.resolve(__dirname, '../..');
const SHARED = process.env.LIVEPOSE_SHARED || path.resolve(REPO, '../shared');
const MODELS = path.join(SHARED, 'models');
const LAB = 'lab_dance_1080x1920_60fps.mp4';
const VECTORS = path.join(REPO, 'tests', 'vectors');

const cache = new Map();

/** Frame `index` of `clip` as a JPEG, scaled to `size` ("W:H") if given. */
function jpegFrame(clip, index, size = '') {
  const key = `${clip}/${index}/${size}`;
  if (!cache.has(key)) {
    const filter = `select=eq(n\\,${index})${size ? `,scale=${size}` : ''}`;
    cache.set(key, execFileSync('ffmpeg', ['-v', 'error', '-i', path.join(SHARED, 'media', clip), '-vf', filter,
      '-frames:v', '1', '-f', 'image2pipe', '-c:v', 'mjpeg', '-q:v', '3', '-'], { maxBuffer: 64 << 20 }));
  }
  return cache.get(key);
}

module.exports = { SHARED, MODELS, LAB, VECTORS, jpegFrame };
