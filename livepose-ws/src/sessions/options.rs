//! A stream's options (`hello` and `config` messages): merged into the session, applied to
//! its stream, and answered with a `welcome` that carries the options and limits in force.

use std::sync::atomic::Ordering;

use livepose_core::inference::{PipelineBuilder, Tracker};
use livepose_core::wire::control::{AnnouncedLimits, ServerMessage, StreamOptions, Welcome};

use super::session::Session;
use crate::state::AppState;
use crate::streams::StreamSettings;

/// The frame formats this server takes, announced in `welcome`.
const FORMATS: [&str; 6] = ["jpeg", "png", "webp", "h264", "rgb8", "rgba8"];

/// Merges `update` into the session's options, rebuilds the tracker if tracking options
/// changed, and answers with a `welcome` carrying the options in force.
pub(crate) fn apply_options(state: &AppState, session: &mut Session, update: StreamOptions) {
    let o = &mut session.options;
    let tracking_changed = update.mode.is_some_and(|m| Some(m) != o.mode)
        || update.smoothing.is_some_and(|m| Some(m) != o.smoothing)
        || update.hands.is_some_and(|m| Some(m) != o.hands);
    o.results = update.results.or(o.results);
    o.model = update.model.or(o.model);
    o.hands = update.hands.or(o.hands);
    o.smoothing = update.smoothing.or(o.smoothing);
    o.mode = update.mode.or(o.mode);
    o.max_result_fps = update.max_result_fps.or(o.max_result_fps);
    let gap = o
        .max_result_fps
        .filter(|fps| *fps > 0.0)
        .map_or(0, |fps| (1e6 / f64::from(fps)) as u64);
    session
        .stream
        .min_result_interval_us
        .store(gap, Ordering::Relaxed);
    let model = o.model.unwrap_or(state.config.model);
    session.stream.set_settings(StreamSettings {
        model,
        results: o.results.unwrap_or_default(),
    });
    if tracking_changed {
        let mut builder: PipelineBuilder = state.config.pipeline_builder();
        if let Some(mode) = o.mode {
            builder = builder.mode(mode);
        }
        if let Some(smoothing) = o.smoothing {
            builder = builder.smoothing(smoothing);
        }
        let mut options = builder.tracker_options();
        options.hands = o.hands.unwrap_or(options.hands) && state.config.hands;
        session.stream.set_tracker(Tracker::new(options));
    }
    let welcome = ServerMessage::Welcome(Welcome {
        protocol: livepose_core::wire::VERSION,
        server: format!("livepose-ws {}", env!("CARGO_PKG_VERSION")),
        stream_id: session.stream.id.clone(),
        options: StreamOptions {
            model: Some(model),
            results: Some(o.results.unwrap_or_default()),
            ..o.clone()
        },
        limits: AnnouncedLimits {
            max_message_bytes: state.config.max_message_bytes as u64,
            max_pixels: state.config.max_pixels,
            max_fps: state.config.max_fps,
        },
        formats: FORMATS.map(String::from).to_vec(),
    });
    session.stream.send_text(welcome.to_json());
}
