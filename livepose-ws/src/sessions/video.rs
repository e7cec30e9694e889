//! An H.264 stream's decoding (docs/protocol.md §3.2). Its access units go, in arrival
//! order, to a decoder thread of the stream's own, made at its first H.264 frame and ended
//! with the session: every unit is decoded (later pictures are predicted from earlier
//! ones), and each picture goes to the stream's latest-wins slot as RGB, so inference takes
//! the newest. A unit that waited more than [`BEHIND`] (or a full queue) drops the ones
//! waiting and the decoder skips to the next keyframe; a refused or undecodable unit gets its error;
//! each time the decoder needs a keyframe the client is asked for one (at most once per
//! [`REQUEST_EVERY`] while it waits).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TryRecvError, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use livepose_core::image::RgbImage;
use livepose_core::video::{H264Decoder, VideoError};
use livepose_core::wire::control::{KeyframeReason, KeyframeRequest, ServerMessage};

use crate::state::AppState;
use crate::streams::{InFrame, StreamCore};

/// A unit that waited this long means the decoder is behind.
const BEHIND: Duration = Duration::from_secs(1);

/// Most units waiting for the decoder (beyond: behind, whatever their age).
const WAITING: usize = 240;

/// While the decoder waits for a keyframe, how often the client is asked again.
const REQUEST_EVERY: Duration = Duration::from_secs(1);

/// One access unit for the decoder.
pub(crate) struct Unit {
    /// The access unit (a view of the socket's message).
    pub(crate) bytes: Bytes,
    pub(crate) sequence: u64,
    pub(crate) capture_ts_us: i64,
    pub(crate) received_us: u64,
    pub(crate) received: Instant,
    /// Inferred once decoded (false: over the frame-rate cap, decoded for what follows).
    pub(crate) infer: bool,
}

/// The sending side of a stream's decoder; dropping it ends the decoder thread.
pub(crate) struct VideoInbound {
    units: SyncSender<Unit>,
    /// Set when a unit could not be queued: the decoder must skip to the next keyframe.
    lost: Arc<AtomicBool>,
}

impl VideoInbound {
    /// Starts the decoder thread of `stream`.
    pub(crate) fn start(state: &Arc<AppState>, stream: &Arc<StreamCore>) -> std::io::Result<Self> {
        let (units, waiting) = sync_channel(WAITING);
        let lost = Arc::new(AtomicBool::new(false));
        let decoder = Decoder {
            state: state.clone(),
            stream: stream.clone(),
            waiting,
            lost: lost.clone(),
            asked: None,
        };
        std::thread::Builder::new()
            .name(format!("h264-{}", stream.id))
            .spawn(move || decoder.run())?;
        Ok(VideoInbound { units, lost })
    }

    /// Queues `unit` for decoding; a full queue means the decoder is behind: the unit is
    /// dropped, and the decoder skips to the next keyframe.
    pub(crate) fn push(&self, stream: &StreamCore, unit: Unit) {
        match self.units.try_send(unit) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                stream.video_dropped.fetch_add(1, Ordering::Relaxed);
                self.lost.store(true, Ordering::Release);
            }
        }
    }
}

struct Decoder {
    state: Arc<AppState>,
    stream: Arc<StreamCore>,
    waiting: Receiver<Unit>,
    /// Units were dropped before the queue.
    lost: Arc<AtomicBool>,
    /// When a keyframe was last asked for, while one is awaited.
    asked: Option<Instant>,
}

impl Decoder {
    fn run(mut self) {
        let mut decoder = match H264Decoder::new(self.state.config.max_pixels) {
            Ok(decoder) => decoder,
            Err(e) => return self.error(&e, 0),
        };
        let mut rgb = RgbImage::new();
        while let Ok(unit) = self.waiting.recv() {
            if self.stream.is_closed() {
                break;
            }
            let lost = self.lost.swap(false, Ordering::AcqRel);
            // Behind: what waits is dropped (units before the queue already were), and
            // decoding resumes at a keyframe (this unit, if it is one).
            if unit.received.elapsed() > BEHIND || lost {
                let dropped = self.drop_waiting();
                self.stream
                    .video_dropped
                    .fetch_add(dropped, Ordering::Relaxed);
                decoder.skip_to_keyframe();
                self.ask(KeyframeReason::Behind, Some(unit.sequence), true);
            }
            let started = !decoder.awaiting_keyframe() || decoder.size().is_some();
            match decoder.decode_rgb(&unit.bytes, &mut rgb) {
                Ok(picture) => {
                    self.asked = None;
                    if picture && unit.infer {
                        self.submit(&rgb, &unit);
                    }
                }
                Err(VideoError::NeedKeyframe(_)) => {
                    self.stream.video_dropped.fetch_add(1, Ordering::Relaxed);
                    let reason = if started {
                        KeyframeReason::DecodeError
                    } else {
                        KeyframeReason::Start
                    };
                    self.ask(reason, Some(unit.sequence), false);
                }
                Err(e) => {
                    self.error(&e, unit.sequence);
                    self.ask(KeyframeReason::DecodeError, Some(unit.sequence), true);
                }
            }
        }
    }

    /// Drops the units waiting; how many.
    fn drop_waiting(&self) -> u64 {
        let mut dropped = 0;
        loop {
            match self.waiting.try_recv() {
                Ok(_) => dropped += 1,
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => return dropped,
            }
        }
    }

    /// The decoded picture to inference (latest wins).
    fn submit(&self, rgb: &RgbImage, unit: &Unit) {
        let frame = InFrame {
            image: Bytes::copy_from_slice(rgb.data()),
            raw: Some((rgb.width(), rgb.height())),
            sequence: unit.sequence,
            capture_ts_us: unit.capture_ts_us,
            received_us: unit.received_us,
        };
        self.state.pool.submit(&self.stream, frame);
    }

    fn error(&self, e: &VideoError, sequence: u64) {
        let code = match e {
            VideoError::TooLarge { .. } => "image_too_large",
            _ => "bad_video",
        };
        self.state
            .send_error(&self.stream, code, &e.to_string(), sequence);
    }

    /// Asks the client for a keyframe: `now` (after an error), or unless it was asked less
    /// than [`REQUEST_EVERY`] ago.
    fn ask(&mut self, reason: KeyframeReason, sequence: Option<u64>, now: bool) {
        let recent = self.asked.is_some_and(|at| at.elapsed() < REQUEST_EVERY);
        if recent && !now {
            return;
        }
        self.asked = Some(Instant::now());
        let request = ServerMessage::KeyframeRequest(KeyframeRequest { reason, sequence });
        self.stream.send_text(request.to_json());
    }
}
