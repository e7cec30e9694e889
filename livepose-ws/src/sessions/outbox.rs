//! What a stream's connection sends next, whatever carries it (a WebSocket or Socket.IO):
//! results from the stream's latest-wins slot, paced by `max_result_fps`; control messages;
//! the `stats` (and `rate`) report every interval; and, where the transport has no
//! heartbeat of its own, a ping.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::time::Interval;

use super::rate::RateWindow;
use crate::message::OutMessage;
use crate::state::AppState;
use crate::streams::StreamCore;

/// One thing to send.
pub(crate) enum Outgoing {
    /// A result (binary or JSON).
    Result(OutMessage),
    /// A control message (`welcome`, `error`, `stats`, `rate`), JSON.
    Control(String),
    /// Time for a ping (only with [`Outbox::new`]'s `ping_every`).
    Ping,
}

/// The sending side of one stream's connection.
pub(crate) struct Outbox {
    stream: Arc<StreamCore>,
    control: Option<tokio::sync::mpsc::Receiver<String>>,
    pings: Option<Interval>,
    stats_ticks: Interval,
    rates: RateWindow,
    next_result: tokio::time::Instant,
}

impl Outbox {
    /// Takes the stream's control queue; pings every `ping_every` if given.
    pub(crate) fn new(
        stream: Arc<StreamCore>,
        ping_every: Option<Duration>,
        stats_every: Duration,
    ) -> Self {
        let start = tokio::time::Instant::now();
        Outbox {
            control: stream.take_control(),
            pings: ping_every.map(|every| tokio::time::interval_at(start + every, every)),
            stats_ticks: tokio::time::interval_at(start + stats_every, stats_every),
            rates: RateWindow::new(&stream, Instant::now()),
            next_result: start,
            stream,
        }
    }

    /// The next thing to send; `None` once the stream is closed.
    pub(crate) async fn next(&mut self, state: &AppState) -> Option<Outgoing> {
        let stream = &self.stream;
        loop {
            // With a `max_result_fps`, results wait for their turn; meanwhile a newer one
            // replaces a waiting one (latest wins).
            let ready = tokio::time::Instant::now() >= self.next_result;
            let ping = async {
                match &mut self.pings {
                    Some(pings) => pings.tick().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = tokio::time::sleep_until(self.next_result), if !ready => {}
                out = stream.outbound.wait(), if ready => {
                    // Closed: what control messages wait still go (a fatal error last).
                    let Some(out) = out else {
                        let control = self.control.as_mut().and_then(|c| c.try_recv().ok());
                        return control.map(Outgoing::Control);
                    };
                    // The workers skip this stream while its result waits: a frame that
                    // came meanwhile may go now.
                    state.pool.resume(stream);
                    self.rates.results += 1;
                    let gap = stream.min_result_interval_us.load(Ordering::Relaxed);
                    self.next_result = tokio::time::Instant::now() + Duration::from_micros(gap);
                    return Some(Outgoing::Result(out));
                }
                Some(text) = recv(&mut self.control) => return Some(Outgoing::Control(text)),
                _ = ping => return Some(Outgoing::Ping),
                _ = self.stats_ticks.tick() => {
                    for text in self.rates.report(stream, Instant::now()) {
                        stream.send_text(text);
                    }
                }
            }
        }
    }
}

/// The next control message, or never if there is no receiver.
async fn recv(control: &mut Option<tokio::sync::mpsc::Receiver<String>>) -> Option<String> {
    match control {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}
