//! [`Pipeline`]: frames in, poses out — decode, detect, crop, landmarks, tracking,
//! smoothing, angles, hands, segmentation.
//!
//! Live mode follows MediaPipe's Pose Landmarker: the detector runs until it finds people,
//! then each person's next region of interest comes from this frame's raw auxiliary
//! landmarks, and the detector runs again only when a track is lost or fewer than
//! `num_poses` people are tracked. Image mode runs detector and landmarks on every frame.
//!
//! A `Pipeline` is an [`Engine`] (buffers, and the models: ONNX Runtime sessions run with
//! `&mut self`, so one engine per worker, and engines built from clones of one builder take
//! their models from one pool, loading another set only for frames processed at the same
//! time) and a [`Tracker`] (one stream's clock, tracked people, smoothers and last result).
//! A server keeps one tracker per stream and lets any worker's engine process its next
//! frame:
//!
//! ```no_run
//! use livepose_core::inference::{Frame, Pipeline};
//!
//! let builder = Pipeline::builder().models_dir("models");
//! let mut engine = builder.build_engine()?;
//! let (mut camera_a, mut camera_b) = (builder.tracker(), builder.tracker());
//! let jpeg = std::fs::read("frame.jpg")?;
//! engine.process(&mut camera_a, Frame::Encoded(&jpeg), None)?;
//! engine.process(&mut camera_b, Frame::Encoded(&jpeg), None)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ```no_run
//! use livepose_core::inference::{Frame, Pipeline};
//! use livepose_core::options::ModelKind;
//!
//! let mut pipeline = Pipeline::builder().model(ModelKind::Lite).models_dir("models").build()?;
//! let jpeg = std::fs::read("frame.jpg")?;
//! let result = pipeline.process(Frame::Encoded(&jpeg), None)?;
//! for pose in &result.poses {
//!     println!("person {}: nose at {:?}, {} µs", pose.id, pose.landmarks[0], result.timings.total);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use super::detector::{Detection, PoseDetector};
use super::hands::{HandFinder, HandTrack};
use super::landmarks::{LandmarkOutput, PoseLandmarker, BODY_LANDMARKS};
use super::memory::release_free_memory;
use super::model_files::{
    load_path, load_role, models_dir, ConversionCache, ModelFileError, ModelRole,
};
use super::roi::{roi_from_alignment, POSE_ROI_SCALE};
use super::segmentation::SegmentationMask;
use super::session::{InferenceError, ModelSource, SessionConfig};
use crate::angles::joint_angles;
use crate::clock::{MonotonicClock, SharedTimeSource, TimeSource, Timestamp};
use crate::error_code::ErrorCode;
use crate::image::{DecoderConfig, ImageDecoder, ImageError, RgbImage, RgbView, RotatedRect};
use crate::options::{ModelKind, RunMode, SmoothingKind};
use crate::smoothing::{LandmarkSmoother, SmoothingConfig};
use crate::types::ResultFlags;
use crate::types::{BoundingBox, Hand, Landmark, Pose, StageTimings};

/// Why a frame could not be processed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum PipelineError {
    /// The image could not be decoded.
    #[error(transparent)]
    Image(#[from] ImageError),
    /// A model could not be loaded or run.
    #[error(transparent)]
    Inference(#[from] InferenceError),
    /// A model file is missing, unreadable, or a `.tflite`/`.task` model failed to convert.
    #[error(transparent)]
    Models(#[from] ModelFileError),
}

impl PipelineError {
    /// The code of the `error` control message that reports it (docs/protocol.md §8): the
    /// image's ([`ImageError::error_code`]: `image_too_large` or `bad_image`), `models` or
    /// `inference`.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            PipelineError::Image(e) => e.error_code(),
            PipelineError::Inference(_) => ErrorCode::Inference,
            PipelineError::Models(_) => ErrorCode::Models,
        }
    }
}

/// A frame to process.
#[derive(Debug, Clone, Copy)]
pub enum Frame<'a> {
    /// A JPEG, PNG or WebP file in memory.
    Encoded(&'a [u8]),
    /// Decoded RGB8 pixels.
    Rgb(RgbView<'a>),
}

/// What [`Pipeline::process`] returns; maps 1:1 onto the wire's result message.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PoseResult {
    /// The people found, each with a stable track id in live mode.
    pub poses: Vec<Pose>,
    /// Per-stage timings in µs.
    pub timings: StageTimings,
    /// What the pipeline did (detector ran, timestamp adjusted, tracking reset).
    pub flags: ResultFlags,
    /// The timestamp the frame was processed at (the caller's, or the next free one).
    pub timestamp: Timestamp,
    /// Frame width and height in pixels.
    pub frame_size: (u32, u32),
    /// Where people are in the frame, when the pipeline was built with
    /// [`segmentation`](PipelineBuilder::segmentation) (not carried by the wire protocol).
    pub segmentation: Option<SegmentationMask>,
}

/// Builder of a [`Pipeline`]. Defaults: lite model, live mode, one person, One Euro
/// smoothing with MediaPipe's parameters, one thread per session, models from
/// `LIVEPOSE_MODELS` or `~/.cache/livepose/models` ([`model_files`](super::model_files)).
///
/// A builder and its clones share the models they load: the [`Engine`]s built from them
/// take a loaded set of models (ONNX Runtime sessions) for each frame and put it back after,
/// so they hold only as many sets as run at the same moment (one per landmark model kind
/// when frames never overlap), not one per engine. A setter that changes what is loaded
/// (models, hands, segmentation, session options) gives the builder a pool of its own;
/// [`model`](Self::model), the per-stream options and the decoder keep it.
#[derive(Debug, Clone)]
pub struct PipelineBuilder {
    pub(super) model: ModelKind,
    pub(super) mode: RunMode,
    pub(super) smoothing: SmoothingKind,
    pub(super) num_poses: usize,
    models_dir: Option<PathBuf>,
    model_paths: Vec<(ModelRole, PathBuf)>,
    cache: ConversionCache,
    session: SessionConfig,
    decoder: DecoderConfig,
    min_presence: f32,
    hands: Option<ModelKind>,
    segmentation: bool,
    /// Where its trackers' clocks read time; `None`: each tracker reads the operating
    /// system's clocks, from its own origin.
    time_source: Option<SharedTimeSource>,
    /// The models loaded for this builder and its clones (see [`ModelPool`]).
    pool: ModelPool,
}

impl Default for PipelineBuilder {
    fn default() -> Self {
        PipelineBuilder {
            model: ModelKind::Lite,
            mode: RunMode::Live,
            smoothing: SmoothingKind::OneEuro,
            num_poses: 1,
            models_dir: None,
            model_paths: Vec::new(),
            cache: ConversionCache::default(),
            session: SessionConfig::default(),
            decoder: DecoderConfig::default(),
            min_presence: 0.5,
            hands: None,
            segmentation: false,
            time_source: None,
            pool: ModelPool::default(),
        }
    }
}

impl PipelineBuilder {
    /// Landmark model.
    pub fn model(mut self, model: ModelKind) -> Self {
        self.model = model;
        self
    }
    /// The landmark model this builder loads.
    pub fn model_kind(&self) -> ModelKind {
        self.model
    }
    /// Live (tracking) or image mode.
    pub fn mode(mut self, mode: RunMode) -> Self {
        self.mode = mode;
        self
    }
    /// Smoothing of tracked people. [`SmoothingKind::OneEuro`] is MediaPipe's filter and,
    /// as in MediaPipe, applies to a single tracked person: with `num_poses` above 1
    /// MediaPipe does not smooth, and neither does livepose (pick [`SmoothingKind::Steady`]
    /// or [`SmoothingKind::Ema`] to smooth several people). [`SmoothingKind::Steady`] is
    /// steadier on a still person at no more lag on fast motion (docs/performance.md).
    pub fn smoothing(mut self, smoothing: SmoothingKind) -> Self {
        self.smoothing = smoothing;
        self
    }
    /// Most people to track (at least 1).
    pub fn num_poses(mut self, n: usize) -> Self {
        self.num_poses = n.max(1);
        self
    }
    /// The person segmentation mask in [`PoseResult::segmentation`] (off by default, as in
    /// MediaPipe: it roughly doubles the landmark model's time).
    pub fn segmentation(mut self, on: bool) -> Self {
        self.segmentation = on;
        self.pool = ModelPool::default();
        self
    }
    /// Hand landmarks with the full hand models (as MediaPipe Holistic uses), or off.
    /// See [`hands`](super::hands) for how hands are found.
    pub fn hands(mut self, on: bool) -> Self {
        self.hands = on.then_some(ModelKind::Full);
        self.pool = ModelPool::default();
        self
    }
    /// Hand landmarks with the given hand models (`palm_detection_{lite,full}.onnx` and
    /// `hand_landmark_{lite,full}.onnx`).
    pub fn hand_model(mut self, model: ModelKind) -> Self {
        self.hands = Some(model);
        self.pool = ModelPool::default();
        self
    }
    /// Directory holding `pose_detection`, `pose_landmark_{lite,full}` and, for hands,
    /// `palm_detection_{lite,full}` and `hand_landmark_{lite,full}`, each as `.onnx` or
    /// MediaPipe's `.tflite` (converted at load, cached), or the `.task` bundles
    /// `pose_landmarker_{lite,full}.task` and `hand_landmarker.task`.
    pub fn models_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.models_dir = Some(dir.into());
        self.pool = ModelPool::default();
        self
    }

    /// The model for `role` from `path` (`.onnx`, `.tflite` or `.task`), wherever the models
    /// directory is.
    pub fn model_path(mut self, role: ModelRole, path: impl Into<PathBuf>) -> Self {
        self.model_paths.retain(|(r, _)| *r != role);
        self.model_paths.push((role, path.into()));
        self.pool = ModelPool::default();
        self
    }

    /// The pose detector and landmark model from a MediaPipe Pose Landmarker bundle
    /// (`pose_landmarker_{lite,full,heavy}.task`).
    pub fn pose_task(self, path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        let kind = self.model;
        self.model_path(ModelRole::PoseDetector, path.clone())
            .model_path(ModelRole::PoseLandmarks(kind), path)
    }

    /// Where converted `.tflite` models are cached (default `~/.cache/livepose/onnx`).
    pub fn conversion_cache(mut self, cache: ConversionCache) -> Self {
        self.cache = cache;
        self.pool = ModelPool::default();
        self
    }
    /// ONNX Runtime session options.
    pub fn session(mut self, config: SessionConfig) -> Self {
        self.session = config;
        self.pool = ModelPool::default();
        self
    }
    /// Image decoder options (pixel limit, JPEG backend).
    pub fn decoder(mut self, config: DecoderConfig) -> Self {
        self.decoder = config;
        self
    }

    /// Loads the models and builds the pipeline: an [`Engine`] and one [`Tracker`].
    pub fn build(self) -> Result<Pipeline, PipelineError> {
        Ok(Pipeline {
            engine: self.build_engine()?,
            tracker: self.tracker(),
        })
    }

    /// The per-stream options of this builder: mode, smoothing, number of people, hands.
    pub fn tracker_options(&self) -> TrackerOptions {
        TrackerOptions {
            mode: self.mode,
            smoothing: self.smoothing,
            num_poses: self.num_poses,
            min_presence: self.min_presence,
            hands: self.hands.is_some(),
        }
    }

    /// A [`Tracker`] (per-stream state) with this builder's options, its clock on the
    /// builder's [`time_source`](Self::time_source) (by default the operating system's).
    pub fn tracker(&self) -> Tracker {
        match &self.time_source {
            Some(source) => {
                Tracker::with_clock(self.tracker_options(), MonotonicClock::new(source.clone()))
            }
            None => Tracker::new(self.tracker_options()),
        }
    }

    /// Where the clocks of the trackers this builder makes ([`tracker`](Self::tracker),
    /// [`build`](Self::build)) read time: each tracker gets a [`MonotonicClock`] of its own
    /// on this source. Unset, each reads the operating system's clocks (a
    /// [`SystemTimeSource`](crate::clock::SystemTimeSource) made with the tracker). The
    /// clock stamps frames given no timestamp and orders those given one; with a
    /// [`ManualTimeSource`](crate::clock::ManualTimeSource), results do not depend on when
    /// frames are processed.
    pub fn time_source(mut self, source: impl TimeSource + 'static) -> Self {
        self.time_source = Some(SharedTimeSource::new(source));
        self
    }

    /// An [`Engine`] (per worker; serves any number of [`Tracker`]s). Loads the models
    /// unless a set for this landmark model is already loaded for this builder or a clone
    /// of it, so that a missing or broken model is an error here, not on the first frame;
    /// the engine loads another set only when it processes a frame while every loaded set
    /// is in use by other engines.
    pub fn build_engine(&self) -> Result<Engine, PipelineError> {
        self.pool.ensure_loaded(self.model, || self.load_models())?;
        Ok(Engine {
            models: self.clone(),
            segmentation: self.segmentation,
            decoder: ImageDecoder::new(self.decoder),
            frame: RgbImage::new(),
            detections: Vec::new(),
            output: LandmarkOutput::default(),
            hands_found: Vec::new(),
        })
    }

    /// Sets of models (detector, landmark model, hand models: one ONNX Runtime session
    /// each) loaded so far for this builder and its clones, idle or in use, all landmark
    /// model kinds together.
    pub fn loaded_model_sets(&self) -> usize {
        self.pool.lock().loaded.len()
    }

    /// Loads one set of models.
    fn load_models(&self) -> Result<Models, PipelineError> {
        let dir = models_dir(self.models_dir.as_deref());
        let load = |role: ModelRole| -> Result<Vec<u8>, PipelineError> {
            Ok(match self.model_paths.iter().find(|(r, _)| *r == role) {
                Some((_, path)) => load_path(path, role, &self.cache)?,
                None => load_role(&dir, role, &self.cache)?,
            })
        };
        let detector = PoseDetector::load(
            ModelSource::Bytes(&load(ModelRole::PoseDetector)?),
            &self.session,
        )?;
        let landmarker = PoseLandmarker::load_with(
            ModelSource::Bytes(&load(ModelRole::PoseLandmarks(self.model))?),
            &self.session,
            self.segmentation,
        )?;
        let hands = match self.hands {
            Some(model) => Some(HandFinder::load(
                ModelSource::Bytes(&load(ModelRole::PalmDetector(model))?),
                ModelSource::Bytes(&load(ModelRole::HandLandmarks(model))?),
                &self.session,
            )?),
            None => None,
        };
        // What loading freed (file bytes, ONNX Runtime's copies) back to the OS.
        release_free_memory();
        Ok(Models {
            detector,
            landmarker,
            hands,
        })
    }
}

/// One set of loaded models: used by one engine at a time.
#[derive(Debug)]
struct Models {
    detector: PoseDetector,
    landmarker: PoseLandmarker,
    hands: Option<HandFinder>,
}

/// The model sets of a builder and its clones. ONNX Runtime sessions run with `&mut self`
/// here, so a set serves one frame at a time; engines take one per frame and put it back,
/// and a new set is loaded only when none is idle. A server with one engine per worker
/// thus holds one set while its streams' frames do not overlap and at most one per worker
/// under load, instead of one per worker from the start.
#[derive(Debug, Clone, Default)]
struct ModelPool {
    state: Arc<Mutex<PoolState>>,
    /// Held while [`ensure_loaded`](Self::ensure_loaded) loads, so that engines built at
    /// the same time load one set between them, not one each.
    loading: Arc<Mutex<()>>,
}

#[derive(Debug, Default)]
struct PoolState {
    /// Sets not in use, with their landmark model.
    idle: Vec<(ModelKind, Models)>,
    /// The landmark model of every set loaded, idle or in use.
    loaded: Vec<ModelKind>,
}

impl ModelPool {
    fn lock(&self) -> MutexGuard<'_, PoolState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Loads a set for `kind` with `load` unless one is loaded.
    fn ensure_loaded(
        &self,
        kind: ModelKind,
        load: impl FnOnce() -> Result<Models, PipelineError>,
    ) -> Result<(), PipelineError> {
        let _loading = self.loading.lock().unwrap_or_else(|e| e.into_inner());
        if self.lock().loaded.contains(&kind) {
            return Ok(());
        }
        let models = load()?;
        self.put(kind, models, true);
        Ok(())
    }

    /// An idle set for `kind`, or a new one from `load`.
    fn take(
        &self,
        kind: ModelKind,
        load: impl FnOnce() -> Result<Models, PipelineError>,
    ) -> Result<Lease<'_>, PipelineError> {
        let idle = {
            let mut state = self.lock();
            let found = state.idle.iter().position(|(k, _)| *k == kind);
            found.map(|i| state.idle.swap_remove(i).1)
        };
        let models = match idle {
            Some(models) => models,
            None => {
                let models = load()?;
                self.lock().loaded.push(kind);
                models
            }
        };
        Ok(Lease {
            pool: self,
            kind,
            models: Some(models),
        })
    }

    fn put(&self, kind: ModelKind, models: Models, new: bool) {
        let mut state = self.lock();
        if new {
            state.loaded.push(kind);
        }
        state.idle.push((kind, models));
    }
}

/// A set taken from a [`ModelPool`], put back when dropped (also when processing fails).
struct Lease<'a> {
    pool: &'a ModelPool,
    kind: ModelKind,
    models: Option<Models>,
}

impl std::ops::Deref for Lease<'_> {
    type Target = Models;
    #[allow(
        clippy::expect_used,
        reason = "Some from the lease's start until its drop"
    )]
    fn deref(&self) -> &Models {
        self.models
            .as_ref()
            .expect("a lease holds its models until dropped")
    }
}

impl std::ops::DerefMut for Lease<'_> {
    #[allow(
        clippy::expect_used,
        reason = "Some from the lease's start until its drop"
    )]
    fn deref_mut(&mut self) -> &mut Models {
        self.models
            .as_mut()
            .expect("a lease holds its models until dropped")
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let Some(models) = self.models.take() {
            self.pool.put(self.kind, models, false);
        }
    }
}

/// One tracked person.
#[derive(Debug, Clone)]
struct Track {
    id: u32,
    /// Region for the next frame.
    roi: RotatedRect,
    image: LandmarkSmoother,
    world: LandmarkSmoother,
    /// Left and right hand.
    hands: [HandTrack; 2],
    /// Where the person was on the last frame: hip centre and torso length (shoulder
    /// centre to hip centre), pixels; none before their first pose.
    last_seen: Option<([f32; 2], f32)>,
}

/// Per-stream options of a [`Tracker`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrackerOptions {
    /// Live (tracking) or image mode.
    pub mode: RunMode,
    /// Smoothing of tracked people (live mode; One Euro only when `num_poses` is 1, as in
    /// MediaPipe).
    pub smoothing: SmoothingKind,
    /// Most people to track (at least 1).
    pub num_poses: usize,
    /// Minimum pose presence (MediaPipe: 0.5).
    pub min_presence: f32,
    /// Look for hands (when the engine has hand models).
    pub hands: bool,
}

impl Default for TrackerOptions {
    fn default() -> Self {
        PipelineBuilder::default().tracker_options()
    }
}

/// The state of one stream: its clock, its tracked people (regions, smoothers, hands) and
/// its last result. Cheap to create; the models live in an [`Engine`], so a server keeps one
/// tracker per stream and one engine per worker.
#[derive(Debug)]
pub struct Tracker {
    options: TrackerOptions,
    clock: MonotonicClock<SharedTimeSource>,
    tracks: Vec<Track>,
    /// Scratch list of the tracks that survive a frame (reused).
    kept: Vec<Track>,
    /// Scratch list of the regions being associated (reused).
    candidates: Vec<Candidate>,
    next_id: u32,
    result: PoseResult,
}

impl Tracker {
    /// A tracker with no one tracked yet, its clock on the operating system's clocks (a
    /// [`MonotonicClock`] on a [`SharedTimeSource::system`] made now): the convenience form
    /// of [`with_clock`](Self::with_clock).
    pub fn new(options: TrackerOptions) -> Self {
        Self::with_clock(options, MonotonicClock::new(SharedTimeSource::system()))
    }

    /// A tracker with no one tracked yet, on `clock`: it stamps frames given no timestamp
    /// and orders those given one (see [`Pipeline::process`]). Nothing else in the tracker
    /// reads time, so with a clock on a
    /// [`ManualTimeSource`](crate::clock::ManualTimeSource) the same frames give the same
    /// results, whenever they are processed.
    pub fn with_clock(options: TrackerOptions, clock: MonotonicClock<SharedTimeSource>) -> Self {
        Tracker {
            options: TrackerOptions {
                num_poses: options.num_poses.max(1),
                ..options
            },
            clock,
            tracks: Vec::new(),
            kept: Vec::new(),
            candidates: Vec::new(),
            next_id: 1,
            result: PoseResult::default(),
        }
    }

    /// Its options.
    pub fn options(&self) -> &TrackerOptions {
        &self.options
    }

    /// Forgets every tracked person (ids continue).
    pub fn reset(&mut self) {
        self.tracks.clear();
    }

    /// The last result.
    pub fn result(&self) -> &PoseResult {
        &self.result
    }

    /// The timestamp of the next frame: the caller's `timestamp` ordered on this tracker's
    /// clock (with [`ResultFlags::TIMESTAMP_ADJUSTED`] when it had to move), else the
    /// clock's now.
    fn stamp(&self, timestamp: Option<Timestamp>) -> (Timestamp, ResultFlags) {
        match timestamp {
            Some(ts) => {
                let (ordered, adjusted) = self.clock.order(ts);
                let flags = if adjusted {
                    ResultFlags::TIMESTAMP_ADJUSTED
                } else {
                    ResultFlags::empty()
                };
                (ordered, flags)
            }
            None => (self.clock.now(), ResultFlags::empty()),
        }
    }
}

/// Processes frames for any [`Tracker`], with its reused buffers and the models of the
/// builder it came from: one per worker. For each frame it takes a set of models that no
/// other engine is using (ONNX Runtime sessions run with `&mut self`), loading one if
/// there is none, and puts it back after (see [`PipelineBuilder`]).
#[derive(Debug)]
pub struct Engine {
    /// Where the models come from: the builder, whose pool holds them.
    models: PipelineBuilder,
    segmentation: bool,
    decoder: ImageDecoder,
    frame: RgbImage,
    detections: Vec<Detection>,
    output: LandmarkOutput,
    /// Hands found for the pose being emitted (swapped into it).
    hands_found: Vec<Hand>,
}

/// The pose pipeline for one stream: an [`Engine`] and a [`Tracker`]. See the
/// [module docs](self).
#[derive(Debug)]
pub struct Pipeline {
    engine: Engine,
    tracker: Tracker,
}

fn micros_since(start: Instant) -> u32 {
    u32::try_from(start.elapsed().as_micros()).unwrap_or(u32::MAX)
}

impl Pipeline {
    /// A builder with the defaults.
    pub fn builder() -> PipelineBuilder {
        PipelineBuilder::default()
    }

    /// Forgets every tracked person.
    pub fn reset(&mut self) {
        self.tracker.reset();
    }

    /// Processes one frame observed at `timestamp` (the caller's clock, microseconds). A
    /// timestamp equal to or older than the previous one is not an error: the frame gets the
    /// next free timestamp and the result says so ([`ResultFlags::TIMESTAMP_ADJUSTED`]).
    pub fn process(
        &mut self,
        frame: Frame<'_>,
        timestamp: Option<Timestamp>,
    ) -> Result<&PoseResult, PipelineError> {
        self.engine.process(&mut self.tracker, frame, timestamp)
    }

    /// The models, to serve more [`Tracker`]s.
    pub fn engine(&mut self) -> &mut Engine {
        &mut self.engine
    }
}

impl Engine {
    /// The pixels of the last encoded frame [`process`](Self::process) decoded (empty
    /// before the first): what a caller draws on after inference without decoding again.
    pub fn decoded_frame(&self) -> RgbView<'_> {
        self.frame.view()
    }

    /// Processes one frame of the stream `tracker` (see [`Pipeline::process`]); the result
    /// is kept in the tracker.
    pub fn process<'t>(
        &mut self,
        tracker: &'t mut Tracker,
        frame: Frame<'_>,
        timestamp: Option<Timestamp>,
    ) -> Result<&'t PoseResult, PipelineError> {
        let started = Instant::now();
        let mut models = self
            .models
            .pool
            .take(self.models.model, || self.models.load_models())?;
        let models = &mut *models;
        let mut timings = StageTimings::default();
        let (ts, mut flags) = tracker.stamp(timestamp);
        let t = Instant::now();
        let image = match frame {
            Frame::Encoded(bytes) => {
                self.decoder.decode(bytes, &mut self.frame)?;
                self.frame.view()
            }
            Frame::Rgb(view) => view,
        };
        timings.decode = micros_since(t);
        let (w, h) = (image.width() as f32, image.height() as f32);
        // Poses are written over last frame's (their vectors keep their capacity): no
        // allocation per frame once the number of people is stable.
        let mut emitted = 0;

        // Which regions the landmark model runs on, as MediaPipe's Tasks graph chooses them
        // (pose_landmarker_graph.cc, BuildPoseLandmarkerGraph):
        // - image mode (L371-378): the detector's regions, in NMS order, clipped to
        //   `num_poses` (ClipNormalizedRectVectorSizeCalculator, L288-292): no association,
        //   so two people whose regions overlap are both kept;
        // - live mode (L336-370): last frame's regions (from its landmarks); the detector
        //   runs only while they are fewer than `num_poses` (L342-356), then
        //   AssociationNormRectCalculator (L359-368) merges [last frame's regions, all the
        //   detector's regions] and the result is clipped to `num_poses`.
        flags |= associate(
            &mut models.detector,
            &mut self.detections,
            tracker,
            image,
            &mut timings,
        )?;
        if self.segmentation {
            tracker
                .result
                .segmentation
                .get_or_insert_with(SegmentationMask::default)
                .reset(image.width(), image.height());
        }
        let mut kept = std::mem::take(&mut tracker.kept);
        for mut track in tracker.tracks.drain(..) {
            let t = Instant::now();
            models.landmarker.crop(image, &track.roi);
            timings.crop += micros_since(t);
            let t = Instant::now();
            models
                .landmarker
                .infer(&track.roi, w, h, &mut self.output)?;
            timings.landmarks += micros_since(t);
            if self.output.presence >= tracker.options.min_presence {
                if let Some(mask) = &mut tracker.result.segmentation {
                    let t = Instant::now();
                    mask.paste(&self.output.mask, &track.roi);
                    timings.post += micros_since(t);
                }
                // Hands from this frame's raw pose landmarks: smoothing lags behind fast
                // hands, and a region placed where the wrist was misses the hand.
                match models.hands.as_mut().filter(|_| tracker.options.hands) {
                    Some(finder) => {
                        let t = Instant::now();
                        let report = finder.find(
                            image,
                            &self.output.landmarks,
                            &mut track.hands,
                            &mut self.hands_found,
                        )?;
                        if report.palm_ran {
                            flags |= ResultFlags::PALM_DETECTOR_RAN;
                        }
                        timings.hands += micros_since(t);
                    }
                    None => self.hands_found.clear(),
                }
                let t = Instant::now();
                emit(
                    &mut track,
                    &mut self.output,
                    ts,
                    w,
                    h,
                    &mut tracker.result,
                    emitted,
                );
                // Swapped, not copied: both vectors keep their capacity.
                std::mem::swap(
                    &mut tracker.result.poses[emitted].hands,
                    &mut self.hands_found,
                );
                timings.post += micros_since(t);
                emitted += 1;
                kept.push(track);
            } else {
                flags |= ResultFlags::TRACKING_RESET;
            }
        }
        std::mem::swap(&mut tracker.tracks, &mut kept);
        tracker.kept = kept;
        tracker.result.poses.truncate(emitted);
        timings.total = micros_since(started);
        let result = &mut tracker.result;
        result.timings = timings;
        result.flags = flags;
        result.timestamp = ts;
        result.frame_size = (image.width(), image.height());
        Ok(&tracker.result)
    }
}

/// A new track with the next id and fresh smoothers: none in image mode, and none with
/// MediaPipe's One Euro when several people are tracked, since MediaPipe smooths only a
/// single pose (pose_landmarker_graph.cc L303-312: `smooth_landmarks` is set only for
/// `num_poses == 1`; for more it is an error to ask for it).
fn new_track(next_id: &mut u32, config: &TrackerOptions, roi: RotatedRect) -> Track {
    let id = *next_id;
    *next_id = next_id.wrapping_add(1);
    let (image, world) = match config.smoothing {
        SmoothingKind::OneEuro => (
            SmoothingConfig::mediapipe_image(),
            SmoothingConfig::mediapipe_world(),
        ),
        SmoothingKind::Steady => (
            SmoothingConfig::steady_image(),
            SmoothingConfig::mediapipe_world(),
        ),
        SmoothingKind::Ema => (SmoothingConfig::ema(0.7), SmoothingConfig::ema(0.7)),
        SmoothingKind::None => (SmoothingConfig::ema(1.0), SmoothingConfig::ema(1.0)),
    };
    let smooth = config.mode == RunMode::Live
        && (config.num_poses == 1 || config.smoothing != SmoothingKind::OneEuro);
    let pick = |c: SmoothingConfig| if smooth { c } else { SmoothingConfig::ema(1.0) };
    Track {
        id,
        roi,
        image: LandmarkSmoother::new(pick(image)),
        world: LandmarkSmoother::new(pick(world)),
        hands: Default::default(),
        last_seen: None,
    }
}

/// A region the landmark model may run on this frame, with the track it continues (none
/// for a fresh detection, whose track is made only if it survives the clipping).
#[derive(Debug)]
struct Candidate {
    roi: RotatedRect,
    track: Option<Track>,
    /// A detection's hip centre (keypoint 0), pixels.
    hip: [f32; 2],
}

/// MediaPipe's `AssociationCalculator::AddElementToList` (association_calculator.h
/// L170-202): every element of `list` whose region overlaps `element`'s (IoU >
/// `min_similarity_threshold`, rotation ignored) is removed, and `element` is appended.
/// Which regions survive is exactly MediaPipe's; the track ids are livepose's own (MediaPipe
/// has none): a fresh detection that replaces tracked regions continues the last of their
/// tracks whose person it is (hip centre within half a torso length of where that person
/// was, see [`SAME_PERSON_TORSOS`]), as the calculator propagates the last overlapping
/// element's id (L183-189). Two people close together have overlapping regions, so a
/// detection of one can replace the other's region: it then starts a track of its own.
fn add_element(list: &mut Vec<Candidate>, mut element: Candidate) {
    let mut inherited = None;
    list.retain_mut(|other| {
        if iou(&element.roi, &other.roi) > ASSOCIATION_IOU {
            if let Some(track) = other.track.take() {
                if same_person(&track, element.hip) {
                    inherited = Some(track);
                }
            }
            false
        } else {
            true
        }
    });
    if element.track.is_none() {
        element.track = inherited;
    }
    list.push(element);
}

/// Hip centre distance, in torso lengths, within which a detection continues a track.
/// On the two-dancer clip a person's hip centre moves at most 0.08 torso lengths from one
/// frame to the next (60 fps); the two people's are 1.6 to 1.9 apart.
const SAME_PERSON_TORSOS: f32 = 0.5;

/// Whether a detection with hip centre `hip` (pixels) is `track`'s person (a track with no
/// pose yet takes any).
fn same_person(track: &Track, hip: [f32; 2]) -> bool {
    track.last_seen.is_none_or(|(last, torso)| {
        (hip[0] - last[0]).hypot(hip[1] - last[1]) <= SAME_PERSON_TORSOS * torso
    })
}

/// Chooses this frame's regions into `tracker.tracks` (see [`Engine::process`]); runs the
/// detector when MediaPipe would, and returns the flags to add.
fn associate(
    detector: &mut PoseDetector,
    detections: &mut Vec<Detection>,
    tracker: &mut Tracker,
    image: RgbView<'_>,
    timings: &mut StageTimings,
) -> Result<ResultFlags, PipelineError> {
    let (w, h) = (image.width() as f32, image.height() as f32);
    let num_poses = tracker.options.num_poses;
    let live = tracker.options.mode == RunMode::Live;
    let mut flags = ResultFlags::empty();
    // AssociationCalculator::GetNonOverlappingElements (association_calculator.h
    // L128-168): the first input (last frame's regions) element by element, each added
    // with AddElementToList, so two tracks that converged on one person merge into the
    // later one; then every detector region the same way.
    let mut list = std::mem::take(&mut tracker.candidates);
    list.clear();
    if live {
        for track in tracker.tracks.drain(..) {
            add_element(
                &mut list,
                Candidate {
                    roi: track.roi,
                    track: Some(track),
                    hip: [0.0; 2],
                },
            );
        }
    } else {
        tracker.tracks.clear();
    }
    if !live || list.len() < num_poses {
        flags |= ResultFlags::DETECTOR_RAN;
        let t = Instant::now();
        // Image mode keeps the first `num_poses` detections. Live mode associates all of
        // them: the detector graph clips only its DETECTIONS output to `num_poses`, not the
        // EXPANDED_POSE_RECTS the landmarker uses (pose_detector_graph.cc L327-343).
        let max = if live { usize::MAX } else { num_poses };
        detector.detect(image, max, detections)?;
        timings.detect = micros_since(t);
        for d in detections.iter() {
            let roi = roi_from_alignment(d.keypoints[0], d.keypoints[1], w, h, POSE_ROI_SCALE);
            let candidate = Candidate {
                roi,
                track: None,
                hip: [d.keypoints[0][0] * w, d.keypoints[0][1] * h],
            };
            if live {
                add_element(&mut list, candidate);
            } else {
                list.push(candidate);
            }
        }
    }
    // ClipNormalizedRectVectorSizeCalculator: the first `num_poses`.
    list.truncate(num_poses);
    for candidate in list.drain(..) {
        let track = match candidate.track {
            Some(mut track) => {
                track.roi = candidate.roi;
                track
            }
            None => new_track(&mut tracker.next_id, &tracker.options, candidate.roi),
        };
        tracker.tracks.push(track);
    }
    tracker.candidates = list;
    Ok(flags)
}

/// IoU above which a detection is the same person as a tracked region (MediaPipe's
/// `min_tracking_confidence`, used as the association threshold).
const ASSOCIATION_IOU: f32 = 0.5;

/// Intersection over union of the axis-aligned extents of two regions (rotation ignored, as
/// MediaPipe's `AssociationNormRectCalculator` does).
fn iou(a: &RotatedRect, b: &RotatedRect) -> f32 {
    let extent = |r: &RotatedRect| {
        [
            r.center_x - r.width / 2.0,
            r.center_y - r.height / 2.0,
            r.center_x + r.width / 2.0,
            r.center_y + r.height / 2.0,
        ]
    };
    let (a, b) = (extent(a), extent(b));
    let ix = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let iy = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = ix * iy;
    let union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
    if union > 0.0 {
        inter / union
    } else {
        0.0
    }
}

/// Smooths a track's landmarks (in pixels, as MediaPipe does), sets its next region of
/// interest from the auxiliary landmarks, and appends the person to `result`.
fn emit(
    track: &mut Track,
    out: &mut LandmarkOutput,
    ts: Timestamp,
    w: f32,
    h: f32,
    result: &mut PoseResult,
    index: usize,
) {
    // The next region of interest comes from the raw auxiliary landmarks, as in MediaPipe's
    // Tasks graph (pose_landmarks_detector_graph.cc: the rect for the next frame is computed
    // from the projected, unsmoothed auxiliary landmarks).
    if let (Some(centre), Some(scale_point)) = (
        out.landmarks.get(BODY_LANDMARKS),
        out.landmarks.get(BODY_LANDMARKS + 1),
    ) {
        track.roi = roi_from_alignment(
            [centre.x, centre.y],
            [scale_point.x, scale_point.y],
            w,
            h,
            POSE_ROI_SCALE,
        );
    }
    if let [Some(ls), Some(rs), Some(lh), Some(rh)] = [11, 12, 23, 24].map(|i| out.landmarks.get(i))
    {
        let hip = [(lh.x + rh.x) / 2.0 * w, (lh.y + rh.y) / 2.0 * h];
        let shoulder = [(ls.x + rs.x) / 2.0 * w, (ls.y + rs.y) / 2.0 * h];
        let torso = (shoulder[0] - hip[0]).hypot(shoulder[1] - hip[1]);
        track.last_seen = Some((hip, torso));
    }
    // Smoothing works in pixels, speed measured relative to the size of the region just
    // computed for the next frame (MediaPipe smooths with OBJECT_SCALE_ROI = the first
    // pose's POSE_RECTS_NEXT_FRAME, pose_landmarks_detector_graph.cc).
    let to_px = |l: &mut Landmark| {
        l.x *= w;
        l.y *= h;
        l.z *= w;
    };
    let from_px = |l: &mut Landmark| {
        l.x /= w;
        l.y /= h;
        l.z /= w;
    };
    let body_len = BODY_LANDMARKS.min(out.landmarks.len());
    let body = &mut out.landmarks[..body_len];
    body.iter_mut().for_each(to_px);
    let scale = ((track.roi.width + track.roi.height) / 2.0).max(1e-6);
    track.image.apply(body, ts, 1.0 / scale);
    body.iter_mut().for_each(from_px);
    track.world.apply(&mut out.world, ts, 1.0);
    let body = &out.landmarks[..BODY_LANDMARKS.min(out.landmarks.len())];
    let mut bbox = BoundingBox {
        x_min: f32::MAX,
        y_min: f32::MAX,
        x_max: f32::MIN,
        y_max: f32::MIN,
    };
    for l in body {
        bbox.x_min = bbox.x_min.min(l.x);
        bbox.y_min = bbox.y_min.min(l.y);
        bbox.x_max = bbox.x_max.max(l.x);
        bbox.y_max = bbox.y_max.max(l.y);
    }
    if result.poses.len() <= index {
        result.poses.push(Pose::default());
    }
    let pose = &mut result.poses[index];
    pose.id = track.id;
    pose.score = out.presence;
    pose.bbox = bbox;
    pose.landmarks.clear();
    pose.landmarks.extend_from_slice(body);
    pose.world_landmarks.clear();
    pose.world_landmarks.extend_from_slice(&out.world);
    joint_angles(&out.world, &mut pose.angles);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualTimeSource;
    use crate::types::Point3;

    fn square(x: f32, y: f32) -> RotatedRect {
        RotatedRect::new(x, y, 100.0, 100.0, 0.0)
    }

    fn tracked(next_id: &mut u32, x: f32, hip_x: f32) -> Candidate {
        let options = TrackerOptions::default();
        let mut track = new_track(next_id, &options, square(x, 0.0));
        track.last_seen = Some(([hip_x, 0.0], 40.0));
        Candidate {
            roi: track.roi,
            track: Some(track),
            hip: [0.0; 2],
        }
    }

    fn detection(x: f32, hip_x: f32) -> Candidate {
        Candidate {
            roi: square(x, 0.0),
            track: None,
            hip: [hip_x, 0.0],
        }
    }

    fn ids(list: &[Candidate]) -> Vec<Option<u32>> {
        list.iter()
            .map(|c| c.track.as_ref().map(|t| t.id))
            .collect()
    }

    /// A tracker's timestamps and its smoothed landmarks for the same five frames (the same
    /// raw landmarks, moving right, 30 fps on a manual clock; frame 3 with a stale caller
    /// timestamp).
    fn five_frames_on_a_manual_clock() -> Vec<(Timestamp, ResultFlags, PoseResult)> {
        let source = ManualTimeSource::new(1_000, 1_700_000_000_000_000);
        let options = TrackerOptions::default();
        let tracker = Tracker::with_clock(
            options,
            MonotonicClock::new(SharedTimeSource::new(source.clone())),
        );
        let mut next_id = 1;
        let mut track = new_track(&mut next_id, &options, square(320.0, 240.0));
        let mut frames = Vec::new();
        for i in 0..5 {
            let caller = (i == 3).then_some(Timestamp::from_micros(0));
            let (ts, flags) = tracker.stamp(caller);
            let x = 0.4 + 0.01 * i as f32;
            let mut out = LandmarkOutput {
                presence: 1.0,
                landmarks: (0..39)
                    .map(|j| Landmark {
                        x: x + 0.001 * j as f32,
                        y: 0.5,
                        z: 0.0,
                        visibility: 1.0,
                        presence: 1.0,
                    })
                    .collect(),
                world: vec![Point3 { x, y: 0.0, z: 0.0 }; BODY_LANDMARKS],
                mask: Vec::new(),
            };
            let mut result = PoseResult::default();
            emit(&mut track, &mut out, ts, 640.0, 480.0, &mut result, 0);
            frames.push((ts, flags, result));
            source.advance_us(33_333);
        }
        frames
    }

    #[test]
    fn a_tracker_on_a_manual_clock_is_deterministic() {
        let first = five_frames_on_a_manual_clock();
        // Real time passes between the two runs: nothing may depend on it.
        std::thread::sleep(std::time::Duration::from_millis(2));
        let second = five_frames_on_a_manual_clock();
        assert_eq!(first, second);
        let stamps: Vec<u64> = first.iter().map(|(ts, ..)| ts.as_micros()).collect();
        assert_eq!(stamps, [1_000, 34_333, 67_666, 67_667, 134_332]);
        // The stale caller timestamp (0) was moved just after the last one, and said so.
        assert!(first[3].1.contains(ResultFlags::TIMESTAMP_ADJUSTED));
        assert!(first
            .iter()
            .enumerate()
            .all(|(i, (_, flags, _))| i == 3 || flags.is_empty()));
        // One Euro smoothing ran on those timestamps: the landmarks lag behind the raw ones.
        let last = &first[4].2.poses[0].landmarks[0];
        assert!(last.x < 0.44 && last.x > 0.4, "{last:?}");
    }

    #[test]
    fn association_keeps_the_later_of_two_overlapping_regions() {
        // AddElementToList: an overlapping (IoU > 0.5) element replaces the earlier one and
        // goes to the end; one that overlaps nothing is appended.
        let mut next_id = 1;
        let mut list = Vec::new();
        add_element(&mut list, tracked(&mut next_id, 0.0, 0.0));
        add_element(&mut list, tracked(&mut next_id, 500.0, 500.0));
        add_element(&mut list, tracked(&mut next_id, 10.0, 10.0));
        assert_eq!(ids(&list), [Some(2), Some(3)]);
        // IoU of two 100-px squares 40 px apart: 60/140 = 0.43, not associated.
        add_element(&mut list, detection(540.0, 540.0));
        assert_eq!(list.len(), 3);
    }

    #[test]
    fn two_tracks_on_bit_identical_regions_merge_into_one() {
        // The association used to loop forever on two tracks with bit-identical regions;
        // now it is one pass over the list, and the later track is kept.
        let mut next_id = 1;
        let mut list = Vec::new();
        add_element(&mut list, tracked(&mut next_id, 0.0, 0.0));
        add_element(&mut list, tracked(&mut next_id, 0.0, 0.0));
        assert_eq!(ids(&list), [Some(2)]);
    }

    #[test]
    fn a_detection_continues_the_track_of_its_own_person_only() {
        let mut next_id = 1;
        let mut list = Vec::new();
        add_element(&mut list, tracked(&mut next_id, 0.0, 0.0));
        add_element(&mut list, tracked(&mut next_id, 500.0, 500.0));
        // Same person (hip 10 px from where it was, torso 40 px): the track goes on.
        add_element(&mut list, detection(5.0, 10.0));
        assert_eq!(ids(&list), [Some(2), Some(1)]);
        assert_eq!(list[1].roi, square(5.0, 0.0));
        // The region overlaps the second track's, but the hip is another person's (30 px
        // away, more than half the torso): MediaPipe drops that region all the same; the
        // detection starts a track of its own.
        add_element(&mut list, detection(520.0, 530.0));
        assert_eq!(ids(&list), [Some(1), None]);
    }
}
