// A plain `ws` WebSocket server that uses livepose for inference, as a drop-in for a
// Node front end's Python-plus-MediaPipe backend: clients send JPEG frames (binary, or the
// JSON+base64 `{"image": "data:image/jpeg;base64,..."}` of existing front ends) and get
// JSON poses back. Per connection, a frame that arrives while one is processed replaces
// the waiting one (latest wins), so latency stays bounded when a client sends too fast.
//
//   npm install livepose ws
//   LIVEPOSE_MODELS=path/to/models node ws_server.js 8000
'use strict';
const { WebSocketServer } = require('ws');
const livepose = require('..'); // in an app: require('livepose')

/** The image bytes of a message: binary as is, or the base64 of a JSON frame. */
function jpegOf(data, isBinary) {
  if (isBinary) return data;
  const { image } = JSON.parse(data.toString());
  return Buffer.from(image.slice(image.indexOf(',') + 1), 'base64');
}

/** The JSON a client draws: poses with plain arrays. */
function toJson(result, dropped) {
  return {
    poses: result.poses.map((p) => ({
      id: p.id, score: p.score, landmarks: Array.from(p.landmarks), angles: p.angles,
    })),
    timings: result.timings,
    frames_dropped: dropped,
  };
}

/** Starts the server; resolves to it once it listens (port 0 picks a free port). */
function createServer({ port = 8000, modelsDir } = {}) {
  const server = new WebSocketServer({ port });
  server.on('connection', (socket) => {
    const pipeline = new livepose.Pipeline({ model: 'lite', modelsDir });
    let waiting = null;
    let busy = false;
    let dropped = 0;
    const pump = async () => {
      if (busy || waiting === null) return;
      busy = true;
      const jpeg = waiting;
      waiting = null;
      try {
        socket.send(JSON.stringify(toJson(await pipeline.process(jpeg), dropped)));
      } catch (e) {
        socket.send(JSON.stringify({ error: e.code, message: e.message }));
      }
      busy = false;
      pump();
    };
    socket.on('message', (data, isBinary) => {
      try {
        if (waiting !== null) dropped += 1;
        waiting = jpegOf(data, isBinary);
      } catch (e) {
        socket.send(JSON.stringify({ error: 'bad_frame', message: e.message }));
        return;
      }
      pump();
    });
    socket.on('close', () => { waiting = null; });
  });
  return new Promise((resolve) => server.on('listening', () => resolve(server)));
}

module.exports = { createServer };

if (require.main === module) {
  createServer({ port: Number(process.argv[2] || 8000), modelsDir: process.env.LIVEPOSE_MODELS })
    .then((server) => console.log(`poses on ws://127.0.0.1:${server.address().port}`));
}
