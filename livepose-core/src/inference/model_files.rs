//! Where models come from: `.onnx` files, MediaPipe's `.tflite` files (converted to ONNX
//! in memory, the result cached by the file's SHA-256) and `.task` bundles (zip archives
//! of `.tflite` files), found by role in a models directory or given by path.
//!
//! The directory is the one given to [`PipelineBuilder::models_dir`](super::PipelineBuilder::models_dir),
//! else `LIVEPOSE_MODELS`, else [`default_models_dir`] (`~/.cache/livepose/models`, where
//! `livepose models fetch` puts them). In it, a role's model is `{stem}.onnx`, else
//! `{stem}.tflite`, else the member of its `.task` bundle.

use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::options::ModelKind;
use crate::tflite::{tflite_to_onnx, ConvertError};

/// Why a model could not be found or read.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ModelFileError {
    /// No file for the role in the models directory.
    #[error("no {role} model in {dir} (looked for {looked_for}); fetch MediaPipe's models with `livepose models fetch` (in a checkout: `bash scripts/fetch-models.sh`) or set LIVEPOSE_MODELS")]
    NotFound {
        /// The role, e.g. `pose landmarks (lite)`.
        role: String,
        /// The directory searched.
        dir: PathBuf,
        /// The file names tried.
        looked_for: String,
    },
    /// A file could not be read.
    #[error("cannot read {path}: {reason}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A `.task` bundle lacks the member for the role, or is not a zip archive.
    #[error("{path}: {reason}")]
    Task {
        /// The bundle.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A `.tflite` model could not be converted.
    #[error(transparent)]
    Convert(#[from] ConvertError),
}

/// The models a pipeline uses, by what they do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ModelRole {
    /// The pose detector.
    PoseDetector,
    /// The pose landmark model of a variant.
    PoseLandmarks(ModelKind),
    /// The palm detector of a variant.
    PalmDetector(ModelKind),
    /// The hand landmark model of a variant.
    HandLandmarks(ModelKind),
}

fn variant(kind: ModelKind) -> &'static str {
    match kind {
        ModelKind::Lite => "lite",
        ModelKind::Full => "full",
    }
}

impl ModelRole {
    /// The file stem in a models directory (`pose_landmark_lite`, ...), as MediaPipe names
    /// its model files.
    pub fn stem(self) -> String {
        match self {
            ModelRole::PoseDetector => "pose_detection".into(),
            ModelRole::PoseLandmarks(k) => format!("pose_landmark_{}", variant(k)),
            ModelRole::PalmDetector(k) => format!("palm_detection_{}", variant(k)),
            ModelRole::HandLandmarks(k) => format!("hand_landmark_{}", variant(k)),
        }
    }

    /// The member of a MediaPipe Tasks bundle that holds this role's model.
    pub fn task_member(self) -> &'static str {
        match self {
            ModelRole::PoseDetector => "pose_detector.tflite",
            ModelRole::PoseLandmarks(_) => "pose_landmarks_detector.tflite",
            ModelRole::PalmDetector(_) => "hand_detector.tflite",
            ModelRole::HandLandmarks(_) => "hand_landmarks_detector.tflite",
        }
    }

    /// The MediaPipe Tasks bundles this role's model ships in (the pose detector is the
    /// same in every pose landmarker bundle).
    pub fn task_bundles(self) -> Vec<String> {
        match self {
            ModelRole::PoseDetector => ["lite", "full", "heavy"]
                .map(|v| format!("pose_landmarker_{v}.task"))
                .to_vec(),
            ModelRole::PoseLandmarks(k) => vec![format!("pose_landmarker_{}.task", variant(k))],
            ModelRole::PalmDetector(_) | ModelRole::HandLandmarks(_) => {
                vec!["hand_landmarker.task".into()]
            }
        }
    }

    fn describe(self) -> String {
        match self {
            ModelRole::PoseDetector => "pose detector".into(),
            ModelRole::PoseLandmarks(k) => format!("pose landmarks ({})", variant(k)),
            ModelRole::PalmDetector(k) => format!("palm detector ({})", variant(k)),
            ModelRole::HandLandmarks(k) => format!("hand landmarks ({})", variant(k)),
        }
    }
}

/// `$XDG_CACHE_HOME/livepose` or `~/.cache/livepose` (`None` without a home directory).
fn cache_root() -> Option<PathBuf> {
    std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .map(|root| root.join("livepose"))
}

/// `~/.cache/livepose/models` (or under `$XDG_CACHE_HOME`): where the fetch script puts
/// the models and where components look when given no directory and no `LIVEPOSE_MODELS`.
pub fn default_models_dir() -> PathBuf {
    cache_root().map_or_else(|| PathBuf::from("models"), |root| root.join("models"))
}

/// The models directory: `explicit`, else `LIVEPOSE_MODELS`, else [`default_models_dir`].
pub fn models_dir(explicit: Option<&Path>) -> PathBuf {
    explicit
        .map(Path::to_path_buf)
        .or_else(|| {
            std::env::var_os("LIVEPOSE_MODELS")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        })
        .unwrap_or_else(default_models_dir)
}

fn read(path: &Path) -> Result<Vec<u8>, ModelFileError> {
    std::fs::read(path).map_err(|e| ModelFileError::Read {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// Whether a conversion was read from the cache or made (and stored).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    /// The converted model was in the cache.
    Hit,
    /// The model was converted now (and stored, if the cache is writable).
    Converted,
}

/// Converted models on disk, keyed by the SHA-256 of the `.tflite` bytes, so that loading
/// a `.tflite` or `.task` model a second time costs a file read.
#[derive(Debug, Clone)]
pub struct ConversionCache {
    dir: Option<PathBuf>,
}

impl Default for ConversionCache {
    /// `~/.cache/livepose/onnx` (or under `$XDG_CACHE_HOME`).
    fn default() -> Self {
        ConversionCache {
            dir: cache_root().map(|root| root.join("onnx")),
        }
    }
}

impl ConversionCache {
    /// A cache in `dir`.
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        ConversionCache {
            dir: Some(dir.into()),
        }
    }

    /// No cache: every load converts.
    pub fn disabled() -> Self {
        ConversionCache { dir: None }
    }

    /// The ONNX form of `tflite` (named `name` in errors), from the cache or converted.
    /// A cache that cannot be written is not an error: the conversion is returned anyway.
    pub fn onnx(
        &self,
        tflite: &[u8],
        name: &str,
    ) -> Result<(Vec<u8>, CacheOutcome), ModelFileError> {
        let key: String = Sha256::digest(tflite)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let path = self.dir.as_ref().map(|dir| dir.join(format!("{key}.onnx")));
        if let Some(bytes) = path.as_ref().and_then(|p| std::fs::read(p).ok()) {
            return Ok((bytes, CacheOutcome::Hit));
        }
        let onnx = tflite_to_onnx(tflite, name)?;
        if let (Some(dir), Some(path)) = (&self.dir, &path) {
            // Written beside and renamed, so a reader never sees half a file.
            let tmp = dir.join(format!("{key}.{}.tmp", std::process::id()));
            let stored = std::fs::create_dir_all(dir)
                .and_then(|()| std::fs::write(&tmp, &onnx))
                .and_then(|()| std::fs::rename(&tmp, path));
            if let Err(e) = stored {
                let _ = std::fs::remove_file(&tmp);
                tracing::warn!(
                    "cannot cache the converted {name} in {}: {e}",
                    dir.display()
                );
            }
        }
        Ok((onnx, CacheOutcome::Converted))
    }
}

/// The model at `path` as ONNX bytes: `.onnx` read as is, `.tflite` converted, `.task` the
/// role's member converted.
pub fn load_path(
    path: &Path,
    role: ModelRole,
    cache: &ConversionCache,
) -> Result<Vec<u8>, ModelFileError> {
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    match path.extension().and_then(|e| e.to_str()) {
        Some("tflite") => Ok(cache.onnx(&read(path)?, &name)?.0),
        Some("task") => {
            let member = task_member(path, role.task_member())?;
            Ok(cache
                .onnx(&member, &format!("{name}/{}", role.task_member()))?
                .0)
        }
        _ => read(path),
    }
}

/// The bytes of `member` of the zip archive at `path`.
fn task_member(path: &Path, member: &str) -> Result<Vec<u8>, ModelFileError> {
    let task = |reason: String| ModelFileError::Task {
        path: path.to_path_buf(),
        reason,
    };
    let file = std::fs::File::open(path).map_err(|e| ModelFileError::Read {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let mut archive = zip::ZipArchive::new(file)
        .map_err(|e| task(format!("not a .task bundle (zip archive): {e}")))?;
    let Some(index) = archive.index_for_name(member) else {
        let names: Vec<String> = archive
            .file_names()
            .filter_map(Result::ok)
            .map(|n| n.into_owned())
            .collect();
        return Err(task(format!(
            "no {member} in the bundle (it holds: {})",
            names.join(", ")
        )));
    };
    let mut entry = archive
        .by_index(index)
        .map_err(|e| task(format!("cannot open {member}: {e}")))?;
    let mut bytes = Vec::new();
    entry
        .read_to_end(&mut bytes)
        .map_err(|e| task(format!("cannot read {member}: {e}")))?;
    Ok(bytes)
}

/// The model for `role` in `dir`: `{stem}.onnx`, else `{stem}.tflite`, else its `.task`
/// bundle's member.
pub fn load_role(
    dir: &Path,
    role: ModelRole,
    cache: &ConversionCache,
) -> Result<Vec<u8>, ModelFileError> {
    let stem = role.stem();
    let mut candidates = vec![
        dir.join(format!("{stem}.onnx")),
        dir.join(format!("{stem}.tflite")),
    ];
    candidates.extend(role.task_bundles().into_iter().map(|b| dir.join(b)));
    match candidates.iter().find(|p| p.is_file()) {
        Some(path) => load_path(path, role, cache),
        None => Err(ModelFileError::NotFound {
            role: role.describe(),
            dir: dir.to_path_buf(),
            looked_for: candidates
                .iter()
                .filter_map(|p| p.file_name())
                .map(|n| n.to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}
