//! Load tool: K concurrent streams at F frames per second for T seconds against a livepose
//! server, each sending real JPEG frames of a shared clip; reports frames sent, results,
//! end-to-end latency p50/p95/p99, drops, and the server's resident memory (from
//! `/metrics`).
//!
//! ```text
//! cargo run --release --example serve -- --models ../shared/models &
//! cargo run --release --example load -- --streams 4 --fps 15 --seconds 10
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Parser;
use livepose::client::{Client, ClientConfig, Event};
use livepose::core::stats::LatencyHistogram;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// K streams at F fps for T seconds.
#[derive(Parser)]
struct Args {
    /// Server address (host:port).
    #[arg(long, default_value = "127.0.0.1:8765")]
    server: String,
    /// Concurrent streams.
    #[arg(long, default_value_t = 4)]
    streams: usize,
    /// Frames per second per stream.
    #[arg(long, default_value_t = 15.0)]
    fps: f64,
    /// Seconds to run.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Clip whose frames are sent (640 wide JPEGs made by ffmpeg); default: the outdoor
    /// test clip in LIVEPOSE_MEDIA, else LIVEPOSE_SHARED/media, else
    /// ~/.cache/livepose/media (`scripts/fetch-media.sh` puts it there).
    #[arg(long, default_value_os_t = default_clip())]
    clip: std::path::PathBuf,
}

fn default_clip() -> std::path::PathBuf {
    let var = |name| std::env::var_os(name).filter(|v| !v.is_empty());
    let media = var("LIVEPOSE_MEDIA")
        .map(std::path::PathBuf::from)
        .or_else(|| var("LIVEPOSE_SHARED").map(|s| std::path::Path::new(&s).join("media")))
        .or_else(|| {
            var("XDG_CACHE_HOME")
                .map(std::path::PathBuf::from)
                .or_else(|| var("HOME").map(|h| std::path::Path::new(&h).join(".cache")))
                .map(|cache| cache.join("livepose/media"))
        })
        .unwrap_or_else(|| "media".into());
    media.join("outdoor_two_people_1768x994_30fps.mp4")
}

fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

/// Up to 30 JPEG frames of the clip, 640 wide.
fn jpegs(clip: &std::path::Path) -> Vec<Vec<u8>> {
    let out = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(clip)
        .args(["-frames:v", "30", "-vf", "scale=640:-2", "-f", "image2pipe"])
        .args(["-c:v", "mjpeg", "-q:v", "4", "-"])
        .output()
        .expect("ffmpeg (Debian package ffmpeg) is needed");
    let (bytes, mut frames, mut start) = (out.stdout, Vec::new(), 0);
    for i in 1..bytes.len() {
        if bytes[i - 1] == 0xFF && bytes[i] == 0xD9 {
            frames.push(bytes[start..=i].to_vec());
            start = i + 1;
        }
    }
    frames
}

/// The value of `name` in the server's `/metrics`.
async fn metric(server: &str, name: &str) -> Option<f64> {
    let mut socket = tokio::net::TcpStream::connect(server).await.ok()?;
    let request = format!("GET /metrics HTTP/1.1\r\nHost: {server}\r\nConnection: close\r\n\r\n");
    socket.write_all(request.as_bytes()).await.ok()?;
    let mut text = String::new();
    socket.read_to_string(&mut text).await.ok()?;
    text.lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let frames = Arc::new(jpegs(&args.clip));
    if frames.is_empty() {
        eprintln!("load: no frames from {}", args.clip.display());
        std::process::exit(1);
    }
    let latency = Arc::new(Mutex::new(LatencyHistogram::new()));
    let (sent, results, dropped) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
    );
    let memory_before = metric(&args.server, "livepose_process_resident_bytes").await;
    let run_for = Duration::from_secs_f64(args.seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for s in 0..args.streams {
        let (frames, latency) = (frames.clone(), latency.clone());
        let (sent, results, dropped) = (sent.clone(), results.clone(), dropped.clone());
        let url = format!("ws://{}/ws", args.server);
        let period = Duration::from_secs_f64(1.0 / args.fps.max(0.1));
        tasks.push(tokio::spawn(async move {
            let mut client = Client::start(ClientConfig::new(url));
            let mut ticks = tokio::time::interval(period);
            let mut i = s;
            let mut last_dropped = 0;
            let deadline = tokio::time::Instant::now() + run_for;
            loop {
                tokio::select! {
                    _ = tokio::time::sleep_until(deadline) => break,
                    _ = ticks.tick() => {
                        client.send_jpeg(frames[i % frames.len()].clone(), now_us());
                        sent.fetch_add(1, Ordering::Relaxed);
                        i += 1;
                    }
                    event = client.next_event() => match event {
                        Some(Event::Result(result)) => {
                            results.fetch_add(1, Ordering::Relaxed);
                            last_dropped = result.frames_dropped;
                            let us = (now_us() - result.capture_ts_us).max(0) as u64;
                            latency.lock().unwrap_or_else(|e| e.into_inner()).record(us);
                        }
                        Some(_) => {}
                        None => break,
                    }
                }
            }
            dropped.fetch_add(last_dropped, Ordering::Relaxed);
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    let seconds = started.elapsed().as_secs_f64();
    let memory_after = metric(&args.server, "livepose_process_resident_bytes").await;
    let s = latency.lock().unwrap_or_else(|e| e.into_inner()).summary();
    let mib = |b: Option<f64>| b.map_or("?".to_string(), |b| format!("{:.0} MiB", b / 1048576.0));
    println!(
        "{} streams x {} fps for {:.1} s: {} frames sent ({:.1} fps), {} results ({:.1} fps), {} dropped by the server",
        args.streams,
        args.fps,
        seconds,
        sent.load(Ordering::Relaxed),
        sent.load(Ordering::Relaxed) as f64 / seconds,
        results.load(Ordering::Relaxed),
        results.load(Ordering::Relaxed) as f64 / seconds,
        dropped.load(Ordering::Relaxed),
    );
    println!(
        "end-to-end latency p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms; server memory {} before, {} after",
        s.p50 as f64 / 1000.0,
        s.p95 as f64 / 1000.0,
        s.p99 as f64 / 1000.0,
        mib(memory_before),
        mib(memory_after),
    );
}
