//! What a worker does with one frame: runs it on the engine for its stream's model (built on
//! first use) with the stream's tracker, feeds the stream's room (its figures, and annotated
//! frames while someone wants them), and encodes the result into the worker's reused
//! buffers, then one allocation: the message the socket writer and the room's viewers share.

use std::collections::HashMap;
use std::time::Instant;

use axum::body::Bytes;
use livepose_core::clock::MonotonicClock;
use livepose_core::inference::{Engine, Frame, PipelineBuilder, PoseResult};
use livepose_core::wire::compat;
use livepose_core::wire::control::{ModelKind, ResultFormat};
use livepose_core::wire::{ResultFlags, ResultMessage};

use crate::message::{self, OutMessage};
use crate::metrics::Metrics;
use crate::streams::{InFrame, StreamCore};

/// One worker's engines and reused buffers.
pub(crate) struct WorkerState<'a> {
    /// Answer with empty results, without decoding or inference.
    echo: bool,
    engines: HashMap<ModelKind, Engine>,
    builder: &'a PipelineBuilder,
    clock: MonotonicClock,
    metrics: &'a Metrics,
    message: ResultMessage,
    buffers: Buffers,
}

impl<'a> WorkerState<'a> {
    /// A worker's state; with `inference`, the default model's engine is built now, so the
    /// first frame does not wait for model loading.
    pub(crate) fn new(builder: &'a PipelineBuilder, inference: bool, metrics: &'a Metrics) -> Self {
        let mut state = WorkerState {
            echo: !inference,
            engines: HashMap::new(),
            builder,
            clock: MonotonicClock::system(),
            metrics,
            message: ResultMessage::default(),
            buffers: Buffers::default(),
        };
        if inference {
            match builder.build_engine() {
                Ok(engine) => {
                    state.engines.insert(builder.model_kind(), engine);
                }
                Err(e) => tracing::error!("worker cannot load the models: {e}"),
            }
        }
        state
    }

    /// Runs one frame of `stream` on the engine for its model (built on first use) and
    /// encodes the result, or an error message.
    pub(crate) fn infer(&mut self, stream: &StreamCore, frame: &InFrame) -> OutMessage {
        let settings = stream.settings();
        if self.echo {
            let now = self.clock.now_wall_us();
            fill(&mut self.message, &PoseResult::default(), frame, now, now);
            self.message.frames_dropped = stream.frames_dropped();
            return encode(
                &self.message,
                &PoseResult::default(),
                settings.results,
                &mut self.buffers,
            );
        }
        let engine = match self.engines.entry(settings.model) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => {
                match self.builder.clone().model(settings.model).build_engine() {
                    Ok(engine) => v.insert(engine),
                    Err(e) => return self.error("models", &e.to_string(), frame.sequence),
                }
            }
        };
        let started = self.clock.now_wall_us();
        let mut tracker = stream.tracker();
        self.metrics.inferences.inc();
        let input = match frame.raw {
            None => Ok(Frame::Encoded(&frame.image)),
            Some((w, h)) => livepose_core::image::RgbView::new(w, h, &frame.image).map(Frame::Rgb),
        };
        let processed = match input {
            Ok(input) => engine.process(&mut tracker, input, None),
            Err(e) => Err(e.into()),
        };
        match processed {
            Ok(result) => {
                let ended = self.clock.now_wall_us();
                if let Some(room) = stream.room() {
                    room.result_out(ended.saturating_sub(frame.received_us), Instant::now());
                    if room.audience.wants_annotated() {
                        // The pixels inference saw: decoded by the engine, or sent raw.
                        let pixels = match frame.raw {
                            None => Ok(engine.decoded_frame()),
                            Some((w, h)) => livepose_core::image::RgbView::new(w, h, &frame.image),
                        };
                        if let Ok(pixels) = pixels {
                            room.annotate(pixels, &result.poses);
                        }
                    }
                }
                fill(&mut self.message, result, frame, started, ended);
                self.message.frames_dropped = stream.frames_dropped();
                let latency = ended.saturating_sub(frame.received_us);
                self.metrics.record_result(latency, &result.timings);
                stream.record_result(latency, result.timings);
                encode(&self.message, result, settings.results, &mut self.buffers)
            }
            // `image_too_large` for an encoded image over `max_pixels` (its size is read
            // from its header where it is decoded), `bad_image`, or `inference`.
            Err(e) => self.error(e.error_code().as_str(), &e.to_string(), frame.sequence),
        }
    }

    /// An `error` about frame `sequence` in the result's place, counted.
    fn error(&self, code: &'static str, why: &str, sequence: u64) -> OutMessage {
        self.metrics.record_error(code);
        OutMessage::text(message::error(code, why, Some(sequence), false))
    }
}

fn fill(message: &mut ResultMessage, result: &PoseResult, frame: &InFrame, start: u64, end: u64) {
    message.sequence = frame.sequence;
    message.capture_ts_us = frame.capture_ts_us;
    message.server_recv_us = frame.received_us;
    message.server_start_us = start;
    message.server_end_us = end;
    message.flags = result.flags & !ResultFlags::TIMESTAMP_ADJUSTED;
    message.timings = result.timings;
    message.poses.clone_from(&result.poses);
}

/// A worker's encoding buffers, reused from result to result.
#[derive(Default)]
struct Buffers {
    bytes: Vec<u8>,
    text: String,
}

fn encode(
    message: &ResultMessage,
    result: &PoseResult,
    format: ResultFormat,
    Buffers { bytes, text }: &mut Buffers,
) -> OutMessage {
    match format {
        ResultFormat::Binary => {
            // Encoded in the worker's buffer, then one allocation: the message the socket
            // writer and the room's viewers share.
            match message.encode_into(bytes) {
                Ok(()) => OutMessage::Binary(Bytes::copy_from_slice(bytes)),
                // Only a count beyond its 16-bit field, which a pose result cannot reach.
                Err(e) => OutMessage::text(message::error(
                    e.code(),
                    &e.to_string(),
                    Some(message.sequence),
                    false,
                )),
            }
        }
        ResultFormat::Json => {
            let (w, h) = result.frame_size;
            compat::encode_result(message, w, h, text);
            OutMessage::text(text.as_str())
        }
    }
}
