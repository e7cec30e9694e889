//! Streams: a stream's shared state between its connection and the worker pool
//! ([`StreamCore`]: latest-wins in and out, tracker, counters, control queue), and the open
//! streams by id ([`Streams`]).

mod stream;
mod table;

pub(crate) use stream::{InFrame, StreamCore, StreamSettings};
pub(crate) use table::Streams;
