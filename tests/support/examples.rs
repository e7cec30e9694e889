//! The `livepose` command in integration tests.
#![allow(dead_code)] // each including target uses a subset

use std::path::PathBuf;
use std::process::Command;

/// The `livepose` command built by cargo for these tests (feature `cli`).
pub fn livepose() -> Command {
    Command::new(env!("CARGO_BIN_EXE_livepose"))
}

// Also included by the other support modules: a test that uses two of them has two copies.
#[allow(clippy::duplicate_mod)]
#[path = "../../livepose-core/tests/support/data.rs"]
pub mod data;

/// One folder holding `media/` (the clips) and `models/` (see [`data::data_dir`]).
pub fn shared() -> PathBuf {
    data::data_dir()
}
