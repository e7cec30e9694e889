//! The server on loopback (a bench binary that prints its figures;
//! `cargo bench --bench ws_loopback`):
//!
//! 1. round trip of a 60 KB JPEG frame through a real socket with inference off (the
//!    server answers each frame with an empty result): the transport's own cost;
//! 2. one stream at 30 fps with the lite model: server-side latency per result (received to
//!    result sent to the socket writer) against the landmark model's time in the same
//!    result, i.e. what the server adds to the model.
//!
//! In test mode (`cargo test --benches`) it runs a few frames only.

#[path = "../tests/support/frames.rs"]
mod frames;

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use livepose::core::image::Codec;
use livepose::core::stats::LatencyHistogram;
use livepose::core::wire::{FrameHeader, ImageFormat, ResultView};
use livepose::ws::{Server, ServerConfig};
use tokio_tungstenite::tungstenite::Message;

fn frame_message(sequence: u64, jpeg: &[u8]) -> Message {
    let mut bytes = Vec::new();
    FrameHeader::new(sequence, 0, ImageFormat::Encoded(Codec::Jpeg))
        .encode_with_payload(jpeg, &mut bytes)
        .unwrap();
    Message::Binary(bytes.into())
}

async fn server(inference: bool) -> Server {
    let config = ServerConfig::default()
        .addr("127.0.0.1:0".parse().unwrap())
        .workers(1)
        .inference(inference)
        .max_fps(100_000)
        .stats_interval(Duration::from_secs(3600))
        .models_dir(frames::shared_dir().join("models"));
    Server::start(config).await.unwrap()
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let quick = !std::env::args().any(|a| a == "--bench");
    let jpeg = frames::jpeg_frame(frames::OUTDOOR, 30, 640, 480);

    // 1. Transport only.
    let echo = server(false).await;
    let (mut socket, _) =
        tokio_tungstenite::connect_async(format!("ws://{}/ws", echo.local_addr()))
            .await
            .unwrap();
    let n = if quick { 20 } else { 5000 };
    let mut rtt = LatencyHistogram::new();
    for i in 0..n + 100 {
        let started = Instant::now();
        socket.send(frame_message(i + 1, &jpeg)).await.unwrap();
        loop {
            if let Some(Ok(Message::Binary(_))) = socket.next().await {
                break;
            }
        }
        if i >= 100 {
            rtt.record(started.elapsed().as_micros() as u64);
        }
    }
    let s = rtt.summary();
    println!(
        "== loopback round trip, {} byte frame, inference off, {n} frames: p50 {:.3} ms, p95 {:.3} ms, p99 {:.3} ms (targets: p50 <= 0.3 ms, p99 <= 1 ms)",
        jpeg.len(),
        ms(s.p50),
        ms(s.p95),
        ms(s.p99)
    );
    drop(socket);
    echo.shutdown().await;

    // 2. Lite model, one stream at 30 fps.
    let real = server(true).await;
    let (socket, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", real.local_addr()))
        .await
        .unwrap();
    let (mut sink, mut source) = socket.split();
    let frames_n: u64 = if quick { 5 } else { 300 };
    let clip: Vec<Vec<u8>> = (0..30)
        .map(|i| frames::jpeg_frame(frames::LAB, i, 480, 640))
        .collect();
    let sender = tokio::spawn(async move {
        let mut ticks = tokio::time::interval(Duration::from_micros(33_333));
        for i in 0..frames_n {
            ticks.tick().await;
            sink.send(frame_message(i + 1, &clip[i as usize % clip.len()]))
                .await
                .unwrap();
        }
        sink
    });
    let (mut server_side, mut model, mut overhead) = (
        LatencyHistogram::new(),
        LatencyHistogram::new(),
        LatencyHistogram::new(),
    );
    let mut last = 0;
    while last < frames_n {
        let Some(Ok(Message::Binary(bytes))) = source.next().await else {
            continue;
        };
        let result = ResultView::parse(&bytes).unwrap();
        last = result.sequence;
        let latency = result.server_end_us.saturating_sub(result.server_recv_us);
        let landmarks = u64::from(result.timings().landmarks);
        server_side.record(latency);
        model.record(landmarks);
        overhead.record(latency.saturating_sub(landmarks));
    }
    let _ = sender.await;
    let (s, m, o) = (server_side.summary(), model.summary(), overhead.summary());
    println!(
        "== lite model, 1 stream at 30 fps, {frames_n} frames: server-side latency p50 {:.2} ms (p95 {:.2}), landmark model p50 {:.2} ms; server-side minus model p50 {:.2} ms, p95 {:.2} ms (target: <= 2 ms)",
        ms(s.p50),
        ms(s.p95),
        ms(m.p50),
        ms(o.p50),
        ms(o.p95)
    );
    real.shutdown().await;
}
