//! Where the tests' real data is:
//!
//! - clips: `$LIVEPOSE_MEDIA`, else `$LIVEPOSE_SHARED/media` when `LIVEPOSE_SHARED` is set,
//!   else `~/.cache/livepose/media` (`scripts/fetch-media.sh` fills it);
//! - models: `$LIVEPOSE_MODELS`, else `$LIVEPOSE_SHARED/models` when set, else
//!   `~/.cache/livepose/models` (`scripts/fetch-models.sh`, i.e. `livepose models fetch`,
//!   fills it);
//! - the TFLite interpreter's outputs on those models: `$LIVEPOSE_TFLITE_ORACLE`, else
//!   `~/.cache/livepose/tflite-oracle` (`scripts/tflite-oracle.sh` fills it);
//! - MediaPipe's reference landmarks: `livepose-core/tests/data/reference/` in the checkout.
//!
//! (`~/.cache` is `$XDG_CACHE_HOME` when set.) `scripts/test-data.sh` fetches all of it.
//! A missing file fails the test with its path and the script that fetches it.
use std::path::{Path, PathBuf};

/// The models every test may load, by stem (each as `.onnx` in the models folder).
pub const MODEL_STEMS: [&str; 7] = [
    "pose_detection",
    "pose_landmark_lite",
    "pose_landmark_full",
    "palm_detection_lite",
    "palm_detection_full",
    "hand_landmark_lite",
    "hand_landmark_full",
];

/// The clips, as `scripts/fetch-media.sh` names them.
pub const CLIPS: [&str; 6] = [
    "lab_dance_1080x1920_60fps.mp4",
    "multi_two_dancers_1088x1920_60fps.mp4",
    "multi_cam01_1088x1920_60fps.mp4",
    "multi_cam03_1088x1920_60fps.mp4",
    "multi_cam04_1088x1920_60fps.mp4",
    "outdoor_two_people_1768x994_30fps.mp4",
];

/// The checkout: the first folder above this crate that holds the fetch scripts.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .find(|dir| dir.join("scripts/fetch-media.sh").is_file())
        .expect("the checkout (a folder with scripts/fetch-media.sh) above CARGO_MANIFEST_DIR")
        .to_path_buf()
}

fn env_dir(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

fn cache_dir(name: &str) -> PathBuf {
    env_dir("XDG_CACHE_HOME")
        .or_else(|| env_dir("HOME").map(|home| home.join(".cache")))
        .expect("HOME or XDG_CACHE_HOME")
        .join("livepose")
        .join(name)
}

/// A folder for what the tests make (frames, links): `tmp/` in cargo's target directory
/// (what cargo gives a test or bench as `CARGO_TARGET_TMPDIR`), found from the running
/// binary (`<target>/<profile>/deps/<binary>`); else `livepose-tests` in the system's
/// temporary folder.
pub fn scratch_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the running binary's path");
    let target = exe
        .parent()
        .filter(|dir| dir.ends_with("deps"))
        .and_then(Path::parent)
        .and_then(Path::parent);
    match target {
        Some(target) => target.join("tmp"),
        None => std::env::temp_dir().join("livepose-tests"),
    }
}

/// The clips folder.
pub fn media_dir() -> PathBuf {
    env_dir("LIVEPOSE_MEDIA")
        .or_else(|| env_dir("LIVEPOSE_SHARED").map(|shared| shared.join("media")))
        .unwrap_or_else(|| cache_dir("media"))
}

/// The models folder.
pub fn models_dir() -> PathBuf {
    env_dir("LIVEPOSE_MODELS")
        .or_else(|| env_dir("LIVEPOSE_SHARED").map(|shared| shared.join("models")))
        .unwrap_or_else(|| cache_dir("models"))
}

/// The TFLite interpreter's outputs, one `<SHA-256 of the .tflite>.npz` per model.
pub fn oracle_dir() -> PathBuf {
    env_dir("LIVEPOSE_TFLITE_ORACLE").unwrap_or_else(|| cache_dir("tflite-oracle"))
}

/// MediaPipe's reference landmarks, committed with the code.
pub fn reference_dir() -> PathBuf {
    repo_root().join("livepose-core/tests/data/reference")
}

/// The clip `name`, which must exist.
pub fn clip(name: &str) -> PathBuf {
    let path = media_dir().join(name);
    assert!(
        path.is_file(),
        "missing clip {}: fetch the clips with `bash scripts/fetch-media.sh {}` \
         (or set LIVEPOSE_MEDIA to a folder that has them)",
        path.display(),
        media_dir().display()
    );
    path
}

fn missing_model(path: &Path) -> String {
    format!(
        "missing model {}: fetch MediaPipe's models with `bash scripts/fetch-models.sh {}` \
         (`livepose models fetch {}`), or set LIVEPOSE_MODELS to a folder that has them",
        path.display(),
        models_dir().display(),
        models_dir().display()
    )
}

/// The models folder, checked to hold every model of [`MODEL_STEMS`] as `.onnx`.
pub fn models() -> PathBuf {
    let dir = models_dir();
    for stem in MODEL_STEMS {
        let path = dir.join(format!("{stem}.onnx"));
        assert!(path.is_file(), "{}", missing_model(&path));
    }
    dir
}

/// The model file `name` (e.g. `pose_landmark_lite.onnx`), which must exist.
pub fn model(name: &str) -> PathBuf {
    let path = models_dir().join(name);
    assert!(path.is_file(), "{}", missing_model(&path));
    path
}

/// MediaPipe's `.tflite` file `name`: in the models folder, or in its `tflite/` subfolder
/// (the layout of a `LIVEPOSE_SHARED` folder).
pub fn tflite(name: &str) -> PathBuf {
    let dir = models_dir();
    let path = dir.join(name);
    if path.is_file() {
        return path;
    }
    let nested = dir.join("tflite").join(name);
    if nested.is_file() {
        return nested;
    }
    panic!("{}", missing_model(&path));
}

/// Whether the models folder has the `.tflite` file `name` (flat or in `tflite/`).
pub fn has_tflite(name: &str) -> bool {
    let dir = models_dir();
    dir.join(name).is_file() || dir.join("tflite").join(name).is_file()
}

/// The reference file `name` (`<clip>.<model>.<mode>.jsonl`).
pub fn reference(name: &str) -> PathBuf {
    let path = reference_dir().join(name);
    assert!(
        path.is_file(),
        "missing reference {}: livepose-core/tests/data/reference/ is part of the checkout",
        path.display()
    );
    path
}

/// One folder with `media` and `models` in it (symbolic links to [`media_dir`] and
/// [`models_dir`], made in [`scratch_dir`]), for code that takes a single data
/// folder and joins `media/...` and `models` to it. Each call checks the clips and models
/// are there.
pub fn data_dir() -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    for name in CLIPS {
        clip(name);
    }
    let (media, models) = (media_dir(), models());
    let dir = scratch_dir().join("livepose-test-data");
    std::fs::create_dir_all(&dir).expect("create the test data folder");
    // Tests run in parallel: each makes its links under unique names and renames them
    // into place (atomic, and every writer links the same targets).
    static NEXT: AtomicU64 = AtomicU64::new(0);
    for (name, target) in [("media", media), ("models", models)] {
        let target = std::path::absolute(&target).expect("absolute path");
        let link = dir.join(name);
        if std::fs::read_link(&link).ok().as_deref() == Some(target.as_path()) {
            continue;
        }
        let unique = NEXT.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".{name}.{}.{unique}", std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        std::os::unix::fs::symlink(&target, &tmp).expect("link the test data");
        std::fs::rename(&tmp, &link).expect("link the test data");
    }
    dir
}
