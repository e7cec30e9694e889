//! `livepose.codec`: protocol v1 frames and results (docs/protocol.md), the same codec the
//! server speaks; tested against the golden vectors in `livepose-core/tests/vectors/`.

use livepose_core::types::{
    BoundingBox, Hand as CoreHand, Handedness, Joint, JointAngle, Landmark, Point3,
    Pose as CorePose, StageTimings,
};
use livepose_core::wire::{
    FrameFlags, FrameHeader, FrameView, ImageFormat, ResultFlags, ResultMessage, ResultView,
};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use serde::Deserialize;

use crate::errors::{self, Kind};
use crate::result::{timings_dict, Pose, PoseResult};

fn parse_format(name: &str, width: u32, height: u32) -> PyResult<ImageFormat> {
    ImageFormat::from_name(name, width, height).map_err(|e| errors::error(Kind::Config, e, None))
}

/// Encodes a frame message: the 40-byte header and `payload`.
#[pyfunction]
#[pyo3(signature = (payload, *, sequence = 0, capture_ts_us = 0, format = "jpeg", width = 0, height = 0, flags = 0))]
#[allow(clippy::too_many_arguments)] // the Python keyword arguments
fn encode_frame<'py>(
    py: Python<'py>,
    payload: &[u8],
    sequence: u64,
    capture_ts_us: i64,
    format: &str,
    width: u32,
    height: u32,
    flags: u16,
) -> PyResult<Bound<'py, PyBytes>> {
    let mut header = FrameHeader::new(
        sequence,
        capture_ts_us,
        parse_format(format, width, height)?,
    );
    header.flags = FrameFlags::from_bits_retain(flags);
    let mut out = Vec::with_capacity(payload.len() + 40);
    header
        .encode_with_payload(payload, &mut out)
        .map_err(errors::wire)?;
    Ok(PyBytes::new(py, &out))
}

/// A decoded frame message.
#[pyclass(module = "livepose.codec", frozen, get_all)]
pub struct Frame {
    /// Chosen by the client, echoed in the result.
    sequence: u64,
    /// The client's capture time (µs), echoed.
    capture_ts_us: i64,
    /// `"jpeg"`, `"png"`, `"webp"`, `"h264"`, `"rgb8"` or `"rgba8"`.
    format: &'static str,
    /// Pixels per row for raw formats, 0 for encoded ones.
    width: u32,
    /// Rows for raw formats, 0 for encoded ones.
    height: u32,
    /// Frame flags (bit 0: reset tracking).
    flags: u16,
    /// The image bytes.
    payload: Py<PyBytes>,
}

#[pymethods]
impl Frame {
    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "Frame(sequence={}, format={:?}, payload={} bytes)",
            self.sequence,
            self.format,
            self.payload.bind(py).as_bytes().len()
        )
    }
}

/// Decodes a frame message; a malformed one raises `ProtocolError` with its `code`.
#[pyfunction]
fn decode_frame(py: Python<'_>, message: &[u8]) -> PyResult<Frame> {
    let view = FrameView::parse(message).map_err(errors::wire)?;
    let (width, height) = match view.header.format {
        ImageFormat::Raw { width, height, .. } => (width, height),
        ImageFormat::Encoded(_) => (0, 0),
    };
    Ok(Frame {
        sequence: view.header.sequence,
        capture_ts_us: view.header.capture_ts_us,
        format: view.header.format.name(),
        width,
        height,
        flags: view.header.flags.bits(),
        payload: PyBytes::new(py, view.payload).unbind(),
    })
}

/// A decoded result message.
#[pyclass(module = "livepose.codec", frozen, get_all)]
pub struct WireResult {
    /// Sequence of the frame this result is for.
    sequence: u64,
    /// That frame's capture time (µs, client clock), echoed.
    capture_ts_us: i64,
    /// When the server received the frame (µs since the Unix epoch).
    server_recv_us: u64,
    /// When inference started.
    server_start_us: u64,
    /// When inference ended.
    server_end_us: u64,
    /// Frames of this stream displaced before inference so far.
    frames_dropped: u64,
    /// Result flags (bit 0 timestamp adjusted, 1 detector ran, 2 tracking reset, 3 palm
    /// detector ran).
    flags: u16,
    /// Microseconds per stage.
    timings: Py<PyDict>,
    /// The people, each a `livepose.Pose`.
    poses: Vec<Py<Pose>>,
}

#[pymethods]
impl WireResult {
    fn __repr__(&self) -> String {
        format!(
            "WireResult(sequence={}, poses={})",
            self.sequence,
            self.poses.len()
        )
    }
}

/// Decodes a result message; a malformed one raises `ProtocolError` with its `code`.
#[pyfunction]
fn decode_result(py: Python<'_>, message: &[u8]) -> PyResult<WireResult> {
    let view = ResultView::parse(message).map_err(errors::wire)?;
    let message = view.to_message();
    Ok(WireResult {
        sequence: message.sequence,
        capture_ts_us: message.capture_ts_us,
        server_recv_us: message.server_recv_us,
        server_start_us: message.server_start_us,
        server_end_us: message.server_end_us,
        frames_dropped: message.frames_dropped,
        flags: message.flags.bits(),
        timings: timings_dict(py, message.timings)?.unbind(),
        poses: message
            .poses
            .into_iter()
            .map(|p| Py::new(py, Pose::new(p)))
            .collect::<PyResult<_>>()?,
    })
}

/// A hand's side: the wire code or its name.
#[derive(Deserialize)]
#[serde(untagged)]
enum Side {
    Code(u8),
    Name(String),
}

#[derive(Deserialize)]
struct HandSpec {
    handedness: Side,
    score: f32,
    #[serde(default)]
    landmarks: Vec<[f32; 3]>,
    #[serde(default)]
    world_landmarks: Vec<[f32; 3]>,
}

#[derive(Deserialize)]
struct PoseSpec {
    #[serde(default)]
    id: u32,
    score: f32,
    bbox: [f32; 4],
    #[serde(default)]
    landmarks: Vec<[f32; 5]>,
    #[serde(default)]
    world_landmarks: Vec<[f32; 3]>,
    #[serde(default)]
    angles: Vec<(u16, f32)>,
    #[serde(default)]
    hands: Vec<HandSpec>,
}

#[derive(Deserialize)]
struct ResultSpec {
    #[serde(default)]
    sequence: u64,
    #[serde(default)]
    capture_ts_us: i64,
    #[serde(default)]
    server_recv_us: u64,
    #[serde(default)]
    server_start_us: u64,
    #[serde(default)]
    server_end_us: u64,
    #[serde(default)]
    frames_dropped: u64,
    #[serde(default)]
    flags: u16,
    #[serde(default)]
    timings_us: Vec<u32>,
    #[serde(default)]
    poses: Vec<PoseSpec>,
}

fn points(values: &[[f32; 3]]) -> Vec<Point3> {
    values.iter().map(|&[x, y, z]| Point3 { x, y, z }).collect()
}

impl HandSpec {
    fn into_hand(self) -> PyResult<CoreHand> {
        let handedness = match self.handedness {
            Side::Code(code) => Handedness::from_code(code),
            Side::Name(name) => name
                .parse()
                .map_err(|e| errors::error(Kind::Config, e, None))?,
        };
        Ok(CoreHand {
            handedness,
            score: self.score,
            landmarks: points(&self.landmarks),
            world_landmarks: points(&self.world_landmarks),
        })
    }
}

impl PoseSpec {
    fn into_pose(self) -> PyResult<CorePose> {
        let [x_min, y_min, x_max, y_max] = self.bbox;
        Ok(CorePose {
            id: self.id,
            score: self.score,
            bbox: BoundingBox {
                x_min,
                y_min,
                x_max,
                y_max,
            },
            landmarks: self
                .landmarks
                .iter()
                .map(|&[x, y, z, visibility, presence]| Landmark {
                    x,
                    y,
                    z,
                    visibility,
                    presence,
                })
                .collect(),
            world_landmarks: points(&self.world_landmarks),
            angles: self
                .angles
                .iter()
                .map(|&(id, degrees)| JointAngle {
                    joint: Joint::from_id(id),
                    degrees,
                })
                .collect(),
            hands: self
                .hands
                .into_iter()
                .map(HandSpec::into_hand)
                .collect::<PyResult<_>>()?,
        })
    }
}

/// Encodes a result message from a `PoseResult` (with `sequence` and `capture_ts_us`), or
/// from a dict in the golden vectors' JSON shape (docs/protocol.md §9: `sequence`,
/// `capture_ts_us`, `server_*_us`, `frames_dropped`, `flags`, `timings_us`, `poses` with
/// `id`, `score`, `bbox`, `landmarks`, `world_landmarks`, `angles`, `hands`).
#[pyfunction]
#[pyo3(signature = (result, *, sequence = 0, capture_ts_us = 0))]
fn encode_result<'py>(
    py: Python<'py>,
    result: &Bound<'py, PyAny>,
    sequence: u64,
    capture_ts_us: i64,
) -> PyResult<Bound<'py, PyBytes>> {
    let message = if let Ok(pose_result) = result.cast::<PoseResult>() {
        pose_result.get().message(sequence, capture_ts_us)
    } else {
        let text: String = py
            .import("json")?
            .call_method1("dumps", (result,))?
            .extract()?;
        let spec: ResultSpec = serde_json::from_str(&text).map_err(|e| {
            errors::error(Kind::Config, format!("not a result description: {e}"), None)
        })?;
        ResultMessage {
            sequence: spec.sequence,
            capture_ts_us: spec.capture_ts_us,
            server_recv_us: spec.server_recv_us,
            server_start_us: spec.server_start_us,
            server_end_us: spec.server_end_us,
            frames_dropped: spec.frames_dropped,
            flags: ResultFlags::from_bits_retain(spec.flags),
            timings: StageTimings::from_slice(&spec.timings_us),
            poses: spec
                .poses
                .into_iter()
                .map(PoseSpec::into_pose)
                .collect::<PyResult<_>>()?,
        }
    };
    let bytes = message.to_bytes().map_err(errors::wire)?;
    Ok(PyBytes::new(py, &bytes))
}

/// Adds the codec's functions and classes to the native module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(encode_frame, m)?)?;
    m.add_function(wrap_pyfunction!(decode_frame, m)?)?;
    m.add_function(wrap_pyfunction!(encode_result, m)?)?;
    m.add_function(wrap_pyfunction!(decode_result, m)?)?;
    m.add_class::<Frame>()?;
    m.add_class::<WireResult>()?;
    Ok(())
}
