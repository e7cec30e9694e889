//! What a stream's connection does with its stream, whatever carries it (a WebSocket,
//! Socket.IO, a server-side source): open it ([`Session`]), take its messages in (`inbound`:
//! frames, `hello`/`config`, checked against the rate cap and the image limits), apply its
//! options and answer `welcome` (`options`), and give its writer what to send next
//! ([`Outbox`]: results paced by `max_result_fps`, control messages, `stats`, pings).
//! Per-connection rates (`rate`): the frame-rate cap and the `stats`/`rate` window.

pub(crate) mod inbound;
mod options;
mod outbox;
mod rate;
mod session;
mod video;

pub(crate) use options::apply_options;
pub(crate) use outbox::{Outbox, Outgoing};
pub(crate) use rate::Verdict;
pub(crate) use session::Session;
