//! The server on loopback (a bench binary that prints its figures;
//! `cargo bench --bench ws_loopback`):
//!
//! 1. round trip of a 60 KB JPEG frame through a real socket with inference off (the
//!    server answers each frame with an empty result): the transport's own cost;
//! 2. one stream at 30 fps with the lite model: server-side latency per result (received to
//!    result sent to the socket writer) against the landmark model's time in the same
//!    result, split into the pipeline's other work (JPEG decode, crop, post-processing)
//!    and what the server itself adds (queueing, scheduling, encoding, the socket writer).
//!
//! In test mode (`cargo test --benches`) it runs a few frames only.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use livepose::core::image::Codec;
use livepose::core::stats::LatencyHistogram;
use livepose::core::wire::{FrameHeader, ImageFormat, ResultView};
use livepose::ws::{Server, ServerConfig};
use livepose_test_support::{data, frames};
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
        .models_dir(data::models());
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
    // The pipeline's own work besides the model (decode, crop, detector, post) and what the
    // server adds around the pipeline (queueing, scheduling, encoding, the socket writer).
    let (mut pipeline_rest, mut server_own) = (LatencyHistogram::new(), LatencyHistogram::new());
    let mut stages: Vec<LatencyHistogram> = (0..4).map(|_| LatencyHistogram::new()).collect();
    let mut last = 0;
    while last < frames_n {
        let Some(Ok(Message::Binary(bytes))) = source.next().await else {
            continue;
        };
        let result = ResultView::parse(&bytes).unwrap();
        last = result.sequence;
        let latency = result.server_end_us.saturating_sub(result.server_recv_us);
        let timings = result.timings();
        let landmarks = u64::from(timings.landmarks);
        let total = u64::from(timings.total);
        server_side.record(latency);
        model.record(landmarks);
        overhead.record(latency.saturating_sub(landmarks));
        pipeline_rest.record(total.saturating_sub(landmarks));
        server_own.record(latency.saturating_sub(total));
        for (h, v) in
            stages
                .iter_mut()
                .zip([timings.decode, timings.detect, timings.crop, timings.post])
        {
            h.record(u64::from(v));
        }
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
    let (rest, own) = (pipeline_rest.summary(), server_own.summary());
    let p: Vec<f64> = stages.iter().map(|h| ms(h.summary().p50)).collect();
    println!(
        "   stage p50: decode {:.2} detect {:.2} crop {:.2} post {:.2} ms",
        p[0], p[1], p[2], p[3]
    );
    println!(
        "   of which pipeline work besides the model (JPEG decode, crop, post) p50 {:.2} ms, and the server itself (queue, schedule, encode, send) p50 {:.2} ms, p95 {:.2} ms",
        ms(rest.p50),
        ms(own.p50),
        ms(own.p95)
    );
    real.shutdown().await;
}
