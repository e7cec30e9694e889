// What Node pays for livepose: the time `await pipeline.process(jpeg)` takes as seen from
// JavaScript against the pipeline's own time measured inside Rust (`timings.total`), for
// the same 480x640 frames and lite model (target: at most 5% more).
//
//   LIVEPOSE_NODE_PROFILE=release npm run build
//   node bench/bench_node.js [models] [clip]
// models default: $LIVEPOSE_MODELS, else $LIVEPOSE_SHARED/models, else ~/.cache/livepose/models
// (scripts/fetch-models.sh); clip default: lab_dance_1080x1920_60fps.mp4 in $LIVEPOSE_MEDIA,
// else $LIVEPOSE_SHARED/media, else ~/.cache/livepose/media (scripts/fetch-media.sh).
'use strict';
const { execFileSync } = require('node:child_process');
const os = require('node:os');
const path = require('node:path');
const livepose = require('..');

function dataDir(variable, name) {
  if (process.env[variable]) return process.env[variable];
  if (process.env.LIVEPOSE_SHARED) return path.join(process.env.LIVEPOSE_SHARED, name);
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'livepose', name);
}

function frames(clip) {
  const out = execFileSync('ffmpeg', ['-v', 'error', '-i', clip, '-vf', 'scale=480:640', '-f', 'image2pipe',
    '-c:v', 'mjpeg', '-q:v', '3', '-'], { maxBuffer: 1 << 30 });
  const jpegs = [];
  let start = 0;
  for (let end = out.indexOf('ffd9', start, 'hex'); end >= 0; end = out.indexOf('ffd9', start, 'hex')) {
    jpegs.push(out.subarray(start, end + 2));
    start = end + 2;
  }
  return jpegs;
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main() {
  const [models = dataDir('LIVEPOSE_MODELS', 'models'),
    clip = path.join(dataDir('LIVEPOSE_MEDIA', 'media'), 'lab_dance_1080x1920_60fps.mp4')] = process.argv.slice(2);
  const jpegs = frames(clip);
  const pipeline = new livepose.Pipeline({ model: 'lite', modelsDir: models });
  const wall = [];
  const inside = [];
  const passes = [...jpegs, ...jpegs];
  for (let i = 0; i < passes.length; i++) {
    const start = process.hrtime.bigint();
    const result = await pipeline.process(passes[i], i * 33_333);
    const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
    if (i >= jpegs.length) {
      wall.push(elapsed);
      inside.push(result.timings.total / 1000);
    }
  }
  const [w, r] = [median(wall), median(inside)];
  console.log(`${jpegs.length} frames at 480x640, lite model: await process() ${w.toFixed(3)} ms, ` +
    `pipeline in Rust ${r.toFixed(3)} ms, binding overhead ${(((w - r) / r) * 100).toFixed(1)}% ` +
    `(${((w - r) * 1000).toFixed(0)} µs; target <= 5%)`);
}

main();
