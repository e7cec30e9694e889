// The fake camera of the uplink benches (webcodecs.mjs, uplink.mjs): the lab dance clip as
// Chromium's fake capture device plays it, 640x480 at 30 fps. The clip is a portrait
// 1080x1920 of 100 frames at 60 fps (1.7 s): cropped to 4:3 around the dancer (full body),
// scaled, resampled to 30 fps, then played forwards and backwards so that the loop Chromium
// plays has no cut (a cut every 1.7 s would cost a video encoder a keyframe's worth of bits
// each time, which no real camera does). Made by ffmpeg at run time, never committed.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

const dataDir = (variable, name) => process.env[variable]
  || (process.env.LIVEPOSE_SHARED && path.join(process.env.LIVEPOSE_SHARED, name))
  || path.join(process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache'), 'livepose', name);

export const MEDIA = dataDir('LIVEPOSE_MEDIA', 'media');
export const MODELS = dataDir('LIVEPOSE_MODELS', 'models');
export const DANCE = 'lab_dance_1080x1920_60fps.mp4';
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Writes the 640x480 30 fps ping-pong loop of the dance clip to `out` (.y4m); returns `out`. */
export function danceCamera(out) {
  const clip = path.join(MEDIA, DANCE);
  if (!existsSync(clip)) throw new Error(`the dance clip is not at ${clip} (bash scripts/fetch-media.sh)`);
  // Rows 360..1170 of 1920 hold the dancer from head to feet.
  const graph = '[0:v]crop=1080:810:0:360,scale=640:480,fps=30,format=yuv420p,split[a][b];'
    + '[b]reverse[r];[a][r]concat=n=2:v=1[out]';
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', clip, '-filter_complex', graph, '-map', '[out]', out]);
  return out;
}

/** Chromium's flags for a headless run whose fake camera plays `camera` (a .y4m file). */
export function chromiumArgs(camera) {
  return [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    // A page in the background (headless) must not be throttled: it captures and encodes.
    '--disable-background-timer-throttling', '--disable-renderer-backgrounding',
    '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
    `--use-file-for-fake-video-capture=${camera}`,
  ];
}

export const percentile = (values, q) => {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
};
