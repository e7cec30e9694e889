//! # livepose
//!
//! Real-time pose estimation streamed over WebSocket. This facade crate re-exports the
//! workspace's crates so applications depend on one name:
//!
//! - [`core`] (`livepose-core`): latest-wins frame slot, monotonic clock, landmark smoothing,
//!   wire protocol v1, image operations, statistics and the inference pipeline.
//! - `ws` (`livepose-ws`, feature `ws`, on by default): the WebSocket server.
//! - `client` (`livepose-client`, feature `client`, on by default): the Rust client, with
//!   no server in its dependencies.
//!
//! ```
//! use livepose::core::wire::{FrameHeader, FrameView, ImageFormat};
//! use livepose::core::image::Codec;
//!
//! let mut message = Vec::new();
//! FrameHeader::new(1, 0, ImageFormat::Encoded(Codec::Jpeg))
//!     .encode_with_payload(&[0xFF, 0xD8, 0xFF], &mut message)
//!     .unwrap();
//! assert_eq!(FrameView::parse(&message).unwrap().payload.len(), 3);
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "client")]
pub use livepose_client as client;
pub use livepose_core as core;
pub use livepose_core::{Error, LatestSlot, MonotonicClock, Timestamp};
#[cfg(feature = "ws")]
pub use livepose_ws as ws;

/// The README's Rust examples, compiled and run as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

/// docs/core.md's Rust examples, compiled and run as doc tests.
#[doc = include_str!("../docs/core.md")]
#[cfg(doctest)]
pub struct CoreDocTests;

/// docs/fidelity.md's Rust example, compiled as a doc test.
#[doc = include_str!("../docs/fidelity.md")]
#[cfg(doctest)]
pub struct FidelityDocTests;
