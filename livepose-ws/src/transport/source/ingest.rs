//! One source's task: runs ffmpeg, cuts its output into frames and feeds them to a stream
//! that publishes to the room, exactly as a camera socket's frames; reconnects with
//! backoff when the source drops, telling the viewers; ends when asked, when the room is
//! removed, or (if so configured) when its last viewer leaves.
//!
//! An RTSP camera that sends H.264 (ffprobe says so before each run) passes through
//! without re-encoding: ffmpeg copies the access units, which go to the stream's H.264
//! decoder as a camera socket's format-6 frames would. Every other source arrives as JPEG.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use livepose_core::image::{Codec, JpegSplitter};
use livepose_core::video::{scan_access_unit, AccessUnitSplitter};
use livepose_core::wire::control::{ResultFormat, ServerMessage, SourceBack, SourceLost};
use livepose_core::wire::{FrameFlags, FrameHeader, ImageFormat};
use tokio::io::AsyncReadExt;
use tokio::sync::watch;

use super::registration::Registration;
use crate::rooms::{Frames, Room};
use crate::sessions::{inbound, Session, Verdict};
use crate::sources::{find_ffprobe, video_codec, Ffmpeg, Output, SourceKind, SourceSpec};
use crate::state::AppState;
use crate::streams::InFrame;

/// A source that gives no frame for this long has dropped.
pub(crate) const STALL: Duration = Duration::from_secs(10);
/// The first wait before reconnecting; it doubles on each failure, up to [`MAX_BACKOFF`],
/// and starts over once frames come again.
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// How much of ffmpeg's output is read at once.
const READ_CHUNK: usize = 64 << 10;

/// What one source's task needs.
pub(crate) struct Ingest {
    pub(crate) state: Arc<AppState>,
    pub(crate) spec: SourceSpec,
    pub(crate) ffmpeg: PathBuf,
    /// Set to `true` to stop the source (`DELETE`, shutdown).
    pub(crate) stop: watch::Receiver<bool>,
    /// The room's camera seat and the source's registration, given back when this ends.
    pub(crate) registration: Registration,
}

/// Whether viewers were told the source is up or lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Told {
    Nothing,
    Up,
    Lost,
}

/// Runs the source until it is stopped, its room removed, or (if so configured) its last
/// viewer gone; then its registration gives the camera seat back.
pub(crate) async fn run(ingest: Ingest) {
    let Ingest {
        state,
        spec,
        ffmpeg,
        mut stop,
        registration,
    } = ingest;
    let Some(seat) = registration.seat() else {
        return;
    };
    let (room, room_name) = (seat.room().clone(), registration.room().to_string());
    let mut session = Session::open(&state, "src", ResultFormat::Binary, Some(seat));
    let stream = session.stream.clone();
    // Guard: the stream leaves `/streams` and inference on every path.
    let _open = OpenStream {
        state: state.clone(),
        id: stream.id.clone(),
    };
    // Nobody reads the stream's own results (they reach the room as they are made): take
    // them, or the workers would wait for a reader before inferring its next frame.
    let drain = tokio::spawn({
        let (state, stream) = (state.clone(), stream.clone());
        async move {
            while stream.outbound.wait().await.is_some() {
                state.pool.resume(&stream);
            }
        }
    });
    let halt = async {
        tokio::select! {
            _ = stop.wait_for(|s| *s) => {}
            _ = room.closed() => {}
            _ = last_viewer_left(&room, spec.stop_when_unwatched) => {
                tracing::info!(room = %room_name, "source stopped: its last viewer left");
            }
        }
    };
    tokio::pin!(halt);
    let url = spec.public_url().to_string();
    let mut told = Told::Nothing;
    let mut backoff = FIRST_BACKOFF;
    let mut sequence = 0u64;
    loop {
        let output = tokio::select! {
            _ = &mut halt => break,
            output = choose_output(&ffmpeg, &spec, state.config.source_reencode) => output,
        };
        let why = match Ffmpeg::spawn(&ffmpeg, &spec, output) {
            Err(e) => format!("cannot start {}: {e}", ffmpeg.display()),
            Ok(mut child) => {
                let mut feed = Feed {
                    state: &state,
                    session: &mut session,
                    room: &room,
                    sequence: &mut sequence,
                    frames: 0,
                    cut: Cut::new(output, state.config.max_message_bytes),
                };
                let ended = tokio::select! {
                    _ = &mut halt => None,
                    why = feed.pump(&mut child.stdout, || {
                        if told == Told::Lost {
                            room.audience.notify(&ServerMessage::SourceBack(SourceBack {
                                room: room_name.clone(),
                                url: url.clone(),
                            }).to_json());
                            tracing::info!(room = %room_name, %url, "source back");
                        }
                        told = Told::Up;
                    }) => Some(why),
                };
                let got_frames = feed.frames > 0;
                let grace = if ended.is_some() {
                    Duration::from_secs(1)
                } else {
                    Duration::ZERO
                };
                let (status, last_error) = child.stop(grace).await;
                let Some(why) = ended else { break };
                if got_frames {
                    backoff = FIRST_BACKOFF;
                }
                match (status, last_error.is_empty()) {
                    (Some(status), true) => format!("{why}; ffmpeg exited ({status})"),
                    (Some(status), false) => {
                        format!("{why}; ffmpeg exited ({status}): {last_error}")
                    }
                    (None, _) => why,
                }
            }
        };
        if told != Told::Lost {
            room.audience.notify(
                &ServerMessage::SourceLost(SourceLost {
                    room: room_name.clone(),
                    url: url.clone(),
                    reason: why.clone(),
                    retry_in_ms: backoff.as_millis() as u64,
                })
                .to_json(),
            );
            told = Told::Lost;
        }
        tracing::warn!(room = %room_name, %url, "source lost ({why}); retrying in {backoff:?}");
        tokio::select! {
            _ = &mut halt => break,
            _ = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
    stream.close();
    let _ = drain.await;
}

/// What ffmpeg should write for `spec`: an RTSP camera's H.264 as it is (unless the server
/// re-encodes all), else JPEG.
async fn choose_output(ffmpeg: &std::path::Path, spec: &SourceSpec, reencode: bool) -> Output {
    if reencode || spec.kind != SourceKind::Rtsp {
        return Output::Jpeg;
    }
    let Some(ffprobe) = find_ffprobe(ffmpeg) else {
        return Output::Jpeg;
    };
    match video_codec(&ffprobe, spec).await {
        Some(video) if video.decodable() => Output::H264,
        _ => Output::Jpeg,
    }
}

/// Resolves when the room's last viewer leaves (after at least one came); never if `on` is
/// false.
async fn last_viewer_left(room: &Room, on: bool) {
    if !on {
        return std::future::pending().await;
    }
    let mut viewers = room.audience.watch_count();
    let _ = viewers.wait_for(|n| *n > 0).await;
    let _ = viewers.wait_for(|n| *n == 0).await;
}

/// How one ffmpeg run's output is cut into frames.
enum Cut {
    Jpeg(JpegSplitter),
    H264(AccessUnitSplitter),
}

impl Cut {
    fn new(output: Output, max_len: usize) -> Cut {
        match output {
            Output::Jpeg => Cut::Jpeg(JpegSplitter::new(max_len)),
            Output::H264 => Cut::H264(AccessUnitSplitter::new(max_len)),
        }
    }

    fn push(&mut self, bytes: &[u8]) {
        match self {
            Cut::Jpeg(split) => split.push(bytes),
            Cut::H264(split) => split.push(bytes),
        }
    }

    fn next(&mut self) -> Option<Vec<u8>> {
        match self {
            Cut::Jpeg(split) => split.next_frame(),
            Cut::H264(split) => split.next_access_unit(),
        }
    }
}

/// Feeds one ffmpeg run's frames to the stream.
struct Feed<'a> {
    state: &'a Arc<AppState>,
    session: &'a mut Session,
    room: &'a Room,
    sequence: &'a mut u64,
    frames: u64,
    cut: Cut,
}

impl Feed<'_> {
    /// Reads ffmpeg's output until it ends or stalls, submitting each frame; `on_frame` runs
    /// at every frame. Returns why it stopped.
    async fn pump(
        &mut self,
        stdout: &mut tokio::process::ChildStdout,
        mut on_frame: impl FnMut(),
    ) -> String {
        let mut buf = vec![0; READ_CHUNK];
        let mut last_frame = Instant::now();
        loop {
            let wait = STALL.saturating_sub(last_frame.elapsed());
            let n = match tokio::time::timeout(wait, stdout.read(&mut buf)).await {
                Err(_) => return format!("no frame for {} s", STALL.as_secs()),
                Ok(Err(e)) => return format!("reading ffmpeg's output failed: {e}"),
                Ok(Ok(0)) => return "the stream ended".to_string(),
                Ok(Ok(n)) => n,
            };
            self.cut.push(&buf[..n]);
            while let Some(frame) = self.cut.next() {
                last_frame = Instant::now();
                self.frames += 1;
                on_frame();
                match self.cut {
                    Cut::Jpeg(_) => self.submit_jpeg(&frame),
                    Cut::H264(_) => self.submit_h264(&frame),
                }
            }
        }
    }

    /// Passes a JPEG to the room's frame viewers and the stream's latest-wins slot, as a
    /// camera socket's frame; frames over the server's `max_fps` are skipped.
    fn submit_jpeg(&mut self, jpeg: &[u8]) {
        let now = Instant::now();
        if let Verdict::Refused { .. } = self.session.cap.check(now) {
            return;
        }
        *self.sequence += 1;
        let state = self.state;
        let capture_ts_us = state.clock.now_wall_us() as i64;
        let header = FrameHeader::new(
            *self.sequence,
            capture_ts_us,
            ImageFormat::Encoded(Codec::Jpeg),
        );
        let mut message = Vec::with_capacity(jpeg.len() + 64);
        if header.encode_with_payload(jpeg, &mut message).is_err() {
            return;
        }
        let message = Bytes::from(message);
        self.room.audience.publish_frames(Frames::Camera, &message);
        let image = message.slice(message.len() - jpeg.len()..);
        let frame = InFrame {
            image,
            raw: None,
            sequence: *self.sequence,
            capture_ts_us,
            received_us: state.clock.now_wall_us(),
        };
        state.pool.submit(&self.session.stream, frame);
    }
}

impl Feed<'_> {
    /// Passes an access unit on as a camera socket's format-6 frame (`inbound::on_binary`:
    /// the room's frame viewers, the stream's decoder, the frame-rate cap), its `KEYFRAME`
    /// flag read from its content. Every unit goes: later pictures depend on it.
    fn submit_h264(&mut self, unit: &[u8]) {
        *self.sequence += 1;
        let mut header = FrameHeader::new(
            *self.sequence,
            self.state.clock.now_wall_us() as i64,
            ImageFormat::Encoded(Codec::H264),
        );
        if scan_access_unit(unit).is_ok_and(|info| info.keyframe) {
            header.flags |= FrameFlags::KEYFRAME;
        }
        let mut message = Vec::with_capacity(unit.len() + 64);
        if header.encode_with_payload(unit, &mut message).is_ok() {
            inbound::on_binary(self.state, self.session, Bytes::from(message));
        }
    }
}

/// A source's stream, listed in `/streams` until this drops.
struct OpenStream {
    state: Arc<AppState>,
    id: String,
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        if let Some(stream) = self.state.streams.remove(&self.id) {
            stream.close();
        }
    }
}
