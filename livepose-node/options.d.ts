// The option objects of `new Pipeline(options)` and `serve(options)`: livepose-core's
// `PipelineOptions` and livepose-ws's `ServeOptions`, whose names (here in camelCase),
// defaults and checks are the Rust ones; test/options.test.js holds these lists to them.

/** Pipeline options; every field is optional. */
export interface PipelineOptions {
  /** Landmark model (default `"lite"`). */
  model?: 'lite' | 'full'
  /** Track hands too (default `false`). */
  hands?: boolean
  /** `"live"` (tracking, default) or `"image"` (every frame on its own). */
  mode?: 'live' | 'image'
  /** Landmark smoothing in live mode (default `"one_euro"`). */
  smoothing?: 'one_euro' | 'steady' | 'ema' | 'none'
  /** ONNX Runtime threads per model (default 1). */
  threads?: number
  /** Most people tracked, 1 to 64 (default 1). */
  numPoses?: number
  /** Folder of the models (default: `LIVEPOSE_MODELS`, else ~/.cache/livepose/models). */
  modelsDir?: string | null
}

/** Server options; every field is optional. */
export interface ServeOptions {
  /** IP address to listen on (default `"127.0.0.1"`). */
  host?: string
  /** Port (default 8765; 0 picks a free one). */
  port?: number
  /** Folder of the models (default: `LIVEPOSE_MODELS`, else ~/.cache/livepose/models). */
  modelsDir?: string | null
  /** Default landmark model (default `"lite"`; clients may ask for the other). */
  model?: 'lite' | 'full'
  /** Load the hand models (default `false`). */
  hands?: boolean
  /** Inference worker threads (default: one per core). */
  workers?: number | null
  /** Require this bearer token on `/ws`, `/estimate_pose` and Socket.IO (and, without `adminToken`, on `/streams`, `/sources` and `/metrics`). */
  token?: string | null
  /** The token for `/streams`, `/sources` and `/metrics` (default: `token`; refused when only room or view tokens are set). */
  adminToken?: string | null
  /** Enables rooms: the token a room's camera must present to publish. */
  roomToken?: string | null
  /** The token a room's viewers must present (default: anyone may view). */
  viewToken?: string | null
  /** Origins allowed to open a socket (default: any). */
  allowedOrigins?: string[]
  /** Most open streams in total (default 256). */
  maxConnections?: number
  /** Most open streams per IP address (default 32). */
  maxConnectionsPerIp?: number
  /** Most frames per second per connection (default 60). */
  maxFps?: number
  /** Largest message in bytes (default 16 MiB). */
  maxMessageBytes?: number
  /** Largest image in pixels, checked before decoding (default 40,000,000). */
  maxPixels?: number
  /** Seconds between pings; a connection that answers none of two is closed (default 10). */
  heartbeatSecs?: number
  /** Seconds a connection has to send its request's headers, else it is closed (default 10). */
  headerTimeoutSecs?: number
  /** Seconds an `/estimate_pose` request has to send its body, else 408 (default 30). */
  bodyTimeoutSecs?: number
  /** Serve the browser demo at `/` (default `true`). */
  demo?: boolean
  /** Serve Socket.IO at `/socket.io/`, WebSocket and long-polling (default `true`). */
  socketio?: boolean
  /**
   * Server-side camera sources, `"ROOM=URL"` each: an HTTP MJPEG stream, `rtsp://…` or a
   * local video file (looped), read with ffmpeg into the room (needs `roomToken`).
   */
  sources?: string[]
  /** Stop a source when its room's last viewer leaves (default `false`). */
  sourceStopWhenUnwatched?: boolean
  /** Most sources running at once, configured and posted (default 16). */
  maxSources?: number
  /** What a source posted over HTTP may read: `scheme:` entries (`rtsp:`, `file:`) and hosts (default: anything but the server's own files). */
  sourceAllow?: string[]
  /** Do not check the certificates of `https://` and `rtsps://` sources (default `false`). */
  sourceTlsInsecure?: boolean
  /** Check those certificates against this PEM file's certificate authorities (default: the system's). */
  sourceCaFile?: string | null
  /** Re-encode RTSP cameras' H.264 to JPEG in ffmpeg instead of decoding it in the server (default `false`). */
  sourceReencode?: boolean
  /** Cluster mode: the NATS server (JetStream on) nodes share rooms through, e.g. `nats://127.0.0.1:4222`. */
  nats?: string
  /** This node's id in the cluster (default: host name and process id). */
  nodeId?: string
}
