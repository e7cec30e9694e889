//! A server-side source as a room's camera: like a camera socket, it holds the room's camera
//! seat and feeds a pose stream (`src{n}` in `/streams`), but its frames come from an ffmpeg
//! subprocess (`crate::sources`) instead of a client.
//!
//! | module | job |
//! | --- | --- |
//! | `start` | [`start()`]: the seat, the registration by room, the gauge, the task |
//! | `registration` | `Registration`: what a running source holds, given back when its task ends |
//! | `ingest` | the task: ffmpeg's output cut into JPEGs for the room's stream, its results drained, reconnection with backoff, `source_lost` / `source_back` |

mod ingest;
mod registration;
mod start;

pub(crate) use start::{start, StartError};
