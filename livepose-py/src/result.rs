//! Result classes: `PoseResult` (one processed frame), `Pose` (one person), `Hand`.
//! Landmark arrays are numpy `float32` arrays, made when a property is read.

use livepose_core::inference::PoseResult as CoreResult;
use livepose_core::types::{
    Hand as CoreHand, JointAngle, Landmark, Point3, Pose as CorePose, StageTimings,
};
use livepose_core::wire::{compat, ResultFlags, ResultMessage};
use numpy::{PyArray1, PyArrayMethods};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

/// `values` as a float32 array of `shape`.
fn array<'py>(py: Python<'py>, values: Vec<f32>, shape: &[usize]) -> PyResult<Bound<'py, PyAny>> {
    Ok(PyArray1::from_vec(py, values).reshape(shape)?.into_any())
}

fn landmark_values(landmarks: &[Landmark], out: &mut Vec<f32>) {
    out.extend(
        landmarks
            .iter()
            .flat_map(|l| [l.x, l.y, l.z, l.visibility, l.presence]),
    );
}

fn point_values(points: &[Point3], out: &mut Vec<f32>) {
    out.extend(points.iter().flat_map(|p| [p.x, p.y, p.z]));
}

fn angle_dict<'py>(py: Python<'py>, angles: &[JointAngle]) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for angle in angles {
        if let Some(name) = angle.joint.name() {
            dict.set_item(name, angle.degrees)?;
        }
    }
    Ok(dict)
}

/// One hand: 21 landmarks in MediaPipe's hand topology.
#[pyclass(module = "livepose", frozen)]
pub struct Hand {
    hand: CoreHand,
    pose_id: u32,
}

#[pymethods]
impl Hand {
    /// Track id of the person this hand belongs to.
    #[getter]
    fn pose_id(&self) -> u32 {
        self.pose_id
    }
    /// `"left"`, `"right"` or `"unknown"` (the person's left or right hand).
    #[getter]
    fn handedness(&self) -> &'static str {
        self.hand.handedness.as_str()
    }
    /// Confidence, 0..1.
    #[getter]
    fn score(&self) -> f32 {
        self.hand.score
    }
    /// `(21, 3)` float32: x, y normalised to the frame, z relative to the wrist.
    #[getter]
    fn landmarks<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let mut v = Vec::new();
        point_values(&self.hand.landmarks, &mut v);
        array(py, v, &[self.hand.landmarks.len(), 3])
    }
    /// `(21, 3)` float32 in metres (`(0, 3)` when not computed).
    #[getter]
    fn world_landmarks<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let mut v = Vec::new();
        point_values(&self.hand.world_landmarks, &mut v);
        array(py, v, &[self.hand.world_landmarks.len(), 3])
    }
    fn __repr__(&self) -> String {
        format!(
            "Hand(pose_id={}, handedness={:?}, score={:.3})",
            self.pose_id,
            self.handedness(),
            self.hand.score
        )
    }
}

/// One person: 33 landmarks, world landmarks, joint angles and hands.
#[pyclass(module = "livepose", frozen)]
pub struct Pose {
    pose: CorePose,
}

impl Pose {
    pub fn new(pose: CorePose) -> Self {
        Pose { pose }
    }

    pub fn core(&self) -> &CorePose {
        &self.pose
    }
}

#[pymethods]
impl Pose {
    /// Track id, stable while the person is tracked.
    #[getter]
    fn id(&self) -> u32 {
        self.pose.id
    }
    /// Pose presence, 0..1.
    #[getter]
    fn score(&self) -> f32 {
        self.pose.score
    }
    /// `(x_min, y_min, x_max, y_max)`, normalised.
    #[getter]
    fn bbox(&self) -> (f32, f32, f32, f32) {
        let b = self.pose.bbox;
        (b.x_min, b.y_min, b.x_max, b.y_max)
    }
    /// `(33, 5)` float32: x, y (normalised to the frame), z, visibility, presence.
    #[getter]
    fn landmarks<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let mut v = Vec::new();
        landmark_values(&self.pose.landmarks, &mut v);
        array(py, v, &[self.pose.landmarks.len(), 5])
    }
    /// `(33, 3)` float32 in metres, origin between the hips.
    #[getter]
    fn world_landmarks<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let mut v = Vec::new();
        point_values(&self.pose.world_landmarks, &mut v);
        array(py, v, &[self.pose.world_landmarks.len(), 3])
    }
    /// Joint angles in degrees by name (`left_elbow`, …, `trunk_lean`).
    #[getter]
    fn angles<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        angle_dict(py, &self.pose.angles)
    }
    /// This person's hands.
    #[getter]
    fn hands(&self) -> Vec<Hand> {
        self.pose
            .hands
            .iter()
            .map(|h| Hand {
                hand: h.clone(),
                pose_id: self.pose.id,
            })
            .collect()
    }
    fn __repr__(&self) -> String {
        format!(
            "Pose(id={}, score={:.3}, hands={})",
            self.pose.id,
            self.pose.score,
            self.pose.hands.len()
        )
    }
}

/// The timings dict: stage name to microseconds.
pub fn timings_dict<'py>(py: Python<'py>, timings: StageTimings) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for (name, us) in StageTimings::NAMES.iter().zip(timings.to_array()) {
        dict.set_item(name, us)?;
    }
    Ok(dict)
}

/// What `Pipeline.process` returns: the people found in one frame.
#[pyclass(module = "livepose", frozen)]
pub struct PoseResult {
    result: CoreResult,
}

impl PoseResult {
    pub fn new(result: CoreResult) -> Self {
        PoseResult { result }
    }

    /// The wire message of this result with the given header fields.
    pub fn message(&self, sequence: u64, capture_ts_us: i64) -> ResultMessage {
        ResultMessage {
            sequence,
            capture_ts_us,
            flags: self.result.flags,
            timings: self.result.timings,
            poses: self.result.poses.clone(),
            ..ResultMessage::default()
        }
    }
}

#[pymethods]
impl PoseResult {
    /// The people found, each a `Pose`.
    #[getter]
    fn poses(&self) -> Vec<Pose> {
        self.result.poses.iter().cloned().map(Pose::new).collect()
    }
    /// `(N, 33, 5)` float32 for N people: x, y, z, visibility, presence.
    #[getter]
    fn landmarks<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let mut v = Vec::new();
        for pose in &self.result.poses {
            landmark_values(&pose.landmarks, &mut v);
        }
        array(py, v, &[self.result.poses.len(), 33, 5])
    }
    /// `(N, 33, 3)` float32 world landmarks in metres.
    #[getter]
    fn world_landmarks<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let mut v = Vec::new();
        for pose in &self.result.poses {
            point_values(&pose.world_landmarks, &mut v);
        }
        array(py, v, &[self.result.poses.len(), 33, 3])
    }
    /// Track ids of the N people.
    #[getter]
    fn ids(&self) -> Vec<u32> {
        self.result.poses.iter().map(|p| p.id).collect()
    }
    /// Joint angles of the first person in degrees by name; empty when nobody was found
    /// (every person's are in `poses[i].angles`).
    #[getter]
    fn angles<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        match self.result.poses.first() {
            Some(pose) => angle_dict(py, &pose.angles),
            None => Ok(PyDict::new(py)),
        }
    }
    /// Every person's hands (each says whose in `pose_id`).
    #[getter]
    fn hands(&self) -> Vec<Hand> {
        self.result
            .poses
            .iter()
            .flat_map(|p| {
                p.hands.iter().map(|h| Hand {
                    hand: h.clone(),
                    pose_id: p.id,
                })
            })
            .collect()
    }
    /// Microseconds per stage: decode, detect, crop, landmarks, hands, post, total.
    #[getter]
    fn timings<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        timings_dict(py, self.result.timings)
    }
    /// The timestamp the frame was processed at (µs; the caller's, or the next free one).
    #[getter]
    fn timestamp_us(&self) -> u64 {
        self.result.timestamp.as_micros()
    }
    /// Whether the caller's timestamp was not after the previous one and was moved forward.
    #[getter]
    fn timestamp_adjusted(&self) -> bool {
        self.result.flags.contains(ResultFlags::TIMESTAMP_ADJUSTED)
    }
    /// Whether the pose detector ran on this frame (else tracking found the people).
    #[getter]
    fn detector_ran(&self) -> bool {
        self.result.flags.contains(ResultFlags::DETECTOR_RAN)
    }
    /// `(width, height)` of the frame in pixels.
    #[getter]
    fn frame_size(&self) -> (u32, u32) {
        self.result.frame_size
    }
    /// The result in the JSON shape of the Python backends livepose replaces (first person:
    /// 17 body keypoints in pixels, hands, angles, world coordinates, timings in ms).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let (w, h) = self.result.frame_size;
        let mut text = String::new();
        compat::encode_result(&self.message(0, 0), w, h, &mut text);
        py.import("json")?.call_method1("loads", (text,))
    }
    /// The result as a protocol v1 binary result message (docs/protocol.md §4).
    #[pyo3(signature = (sequence = 0, capture_ts_us = 0))]
    fn to_bytes<'py>(
        &self,
        py: Python<'py>,
        sequence: u64,
        capture_ts_us: i64,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let bytes = self
            .message(sequence, capture_ts_us)
            .to_bytes()
            .map_err(crate::errors::wire)?;
        Ok(PyBytes::new(py, &bytes))
    }
    fn __len__(&self) -> usize {
        self.result.poses.len()
    }
    fn __repr__(&self) -> String {
        format!(
            "PoseResult(poses={}, hands={}, total_us={})",
            self.result.poses.len(),
            self.result
                .poses
                .iter()
                .map(|p| p.hands.len())
                .sum::<usize>(),
            self.result.timings.total
        )
    }
}
