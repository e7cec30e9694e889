//! Finding and loading the ONNX Runtime shared library (`ort` with `load-dynamic`).
//!
//! Resolution order: an explicit path given by the caller; `ORT_DYLIB_PATH`; the library
//! inside an installed Python `onnxruntime` package (found by asking `python3`, so virtual
//! environments work); otherwise [`RuntimeError::NotFound`], whose message gives the exact
//! command that installs it. The library is loaded and its version checked once per process,
//! before any session exists, so a missing or too old library is an error, never a panic.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

/// The command that installs a matching ONNX Runtime.
pub const INSTALL_HINT: &str =
    "python3 -m pip install onnxruntime==1.31.1  (or run scripts/setup-ort.sh)";

/// Why ONNX Runtime could not be used.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum RuntimeError {
    /// No library was found anywhere.
    #[error("ONNX Runtime library not found (looked at: {looked_at}); install it with: {INSTALL_HINT}, or set ORT_DYLIB_PATH")]
    NotFound {
        /// Where we looked.
        looked_at: String,
    },
    /// The library exists but could not be loaded, or is too old for this build.
    #[error("cannot use the ONNX Runtime library at {path}: {reason}; install a matching one with: {INSTALL_HINT}")]
    Load {
        /// The library file.
        path: PathBuf,
        /// The loader's explanation (missing file, wrong architecture, version too old…).
        reason: String,
    },
    /// The runtime environment could not be created.
    #[error("ONNX Runtime environment: {0}")]
    Environment(String),
}

/// The loaded runtime: where the library came from and the shared environment sessions use.
#[derive(Debug)]
pub struct Runtime {
    /// The library file that was loaded.
    pub library: PathBuf,
    environment: ort::environment::Environment,
}

impl Runtime {
    /// The `ort` environment sessions are built in.
    pub(crate) fn environment(&self) -> &ort::environment::Environment {
        &self.environment
    }
}

static RUNTIME: OnceLock<Runtime> = OnceLock::new();
static INIT: Mutex<()> = Mutex::new(());

/// Loads ONNX Runtime once per process and returns it; later calls return the same runtime
/// (an `explicit` path given after the first load is ignored).
pub fn runtime(explicit: Option<&Path>) -> Result<&'static Runtime, RuntimeError> {
    if let Some(rt) = RUNTIME.get() {
        return Ok(rt);
    }
    let _guard = INIT.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(rt) = RUNTIME.get() {
        return Ok(rt);
    }
    let library = resolve_library(explicit)?;
    let builder = ort::init_from(&library).map_err(|e| RuntimeError::Load {
        path: library.clone(),
        reason: e.to_string(),
    })?;
    let environment = builder
        .with_name("livepose")
        .with_telemetry(false)
        .build()
        .map_err(|e| RuntimeError::Environment(e.to_string()))?;
    tracing::info!(library = %library.display(), "loaded ONNX Runtime");
    Ok(RUNTIME.get_or_init(|| Runtime {
        library,
        environment,
    }))
}

/// Finds the library file without loading it.
pub fn resolve_library(explicit: Option<&Path>) -> Result<PathBuf, RuntimeError> {
    let mut looked_at = Vec::new();
    if let Some(path) = explicit {
        return existing(path).ok_or_else(|| RuntimeError::Load {
            path: path.to_path_buf(),
            reason: "no such file".into(),
        });
    }
    if let Some(path) = std::env::var_os("ORT_DYLIB_PATH").filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        return existing(&path).ok_or_else(|| RuntimeError::Load {
            path,
            reason: "ORT_DYLIB_PATH names no file".into(),
        });
    }
    looked_at.push("ORT_DYLIB_PATH (unset)".to_string());
    for python in ["python3", "python"] {
        match python_onnxruntime_dir(python) {
            Some(dir) => {
                if let Some(lib) = library_in(&dir.join("capi")) {
                    return Ok(lib);
                }
                looked_at.push(format!("{}", dir.join("capi").display()));
            }
            None => looked_at.push(format!("`{python} -c 'import onnxruntime'`")),
        }
    }
    Err(RuntimeError::NotFound {
        looked_at: looked_at.join(", "),
    })
}

fn existing(path: &Path) -> Option<PathBuf> {
    path.is_file().then(|| path.to_path_buf())
}

/// The directory of the `onnxruntime` Python package that `python` imports.
fn python_onnxruntime_dir(python: &str) -> Option<PathBuf> {
    let out = Command::new(python)
        .args([
            "-c",
            "import os, onnxruntime; print(os.path.dirname(onnxruntime.__file__))",
        ])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let dir = String::from_utf8(out.stdout).ok()?;
    Some(PathBuf::from(dir.trim()))
}

/// `libonnxruntime.so*` (or the platform's equivalent) in `dir`, preferring the fully
/// versioned file name.
fn library_in(dir: &Path) -> Option<PathBuf> {
    let prefix = format!("{}onnxruntime", std::env::consts::DLL_PREFIX);
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                n.starts_with(&prefix)
                    && !n.contains("providers")
                    && n.contains(std::env::consts::DLL_SUFFIX)
            })
        })
        .collect();
    found.sort_by_key(|p| std::cmp::Reverse(p.as_os_str().len()));
    found.into_iter().next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_missing_path_is_a_typed_error() {
        let err = resolve_library(Some(Path::new("/nonexistent/libonnxruntime.so"))).unwrap_err();
        assert!(matches!(err, RuntimeError::Load { .. }));
        assert!(err.to_string().contains("pip install onnxruntime"), "{err}");
    }

    #[test]
    fn finds_the_versioned_library_in_a_directory() {
        let dir = std::env::temp_dir().join(format!("livepose-ort-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for name in [
            "libonnxruntime_providers_shared.so",
            "libonnxruntime.so",
            "libonnxruntime.so.1.31.1",
            "__init__.py",
        ] {
            std::fs::write(dir.join(name), b"").unwrap();
        }
        assert_eq!(library_in(&dir), Some(dir.join("libonnxruntime.so.1.31.1")));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
