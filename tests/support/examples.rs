//! Building and running the workspace's example binaries from integration tests.
#![allow(dead_code)] // each including target uses a subset

use std::path::PathBuf;
use std::process::Command;
use std::sync::{Mutex, OnceLock};

/// The example `name`, built (once per test binary, up to date) in the profile of the
/// running test binary: `cargo test` builds examples only when it builds every target.
pub fn example(name: &str) -> Command {
    static BUILT: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap().to_path_buf();
    let built = BUILT.get_or_init(|| Mutex::new(Vec::new()));
    let mut built = built.lock().unwrap();
    if !built.iter().any(|b| b == name) {
        let mut cargo = Command::new(env!("CARGO"));
        cargo.args(["build", "--quiet", "--example", name]);
        if dir.ends_with("release") {
            cargo.arg("--release");
        }
        let status = cargo
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .unwrap();
        assert!(status.success(), "building the {name} example");
        built.push(name.to_string());
    }
    Command::new(dir.join("examples").join(name))
}

/// The shared folder beside the checkout.
pub fn shared() -> PathBuf {
    std::env::var_os("LIVEPOSE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"))
}
