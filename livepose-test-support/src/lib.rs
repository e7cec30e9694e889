//! What the workspace's tests and benches share (a dev-dependency, never published):
//!
//! - [`data`]: where the clips, models, TFLite outputs and MediaPipe's reference are;
//! - [`frames`]: frames cut from the clips by ffmpeg (JPEG files, cached; raw RGB8);
//! - [`reference`]: MediaPipe's landmarks on the clips and the fidelity metric;
//! - [`oracle`]: the TFLite interpreter's outputs on MediaPipe's models;
//! - [`http`]: a raw HTTP/1.1 request over a real socket;
//! - [`process`]: `nats-server` and `livepose serve` processes on loopback;
//! - [`rtsp`]: an RTSP camera (ffmpeg's RTP behind a small RTSP relay).
//!
//! It depends on no livepose crate: its helpers take and give std types (paths, bytes,
//! socket addresses), so any crate's tests can use it without building the server.
//! Helpers on livepose-ws's own types (an in-process `Server`) stay in
//! `livepose-ws/tests/support/` (`mod support;`).

pub mod data;
pub mod frames;
pub mod http;
pub mod oracle;
pub mod process;
pub mod reference;
pub mod rtsp;
