//! The real server under load (a bench binary that prints its figures and asserts no
//! timings). Each scenario starts `livepose serve` as a child process on a free loopback
//! port, waits for `/health`, and talks to it with WebSocket clients (protocol v1 binary
//! frames: 854x480 JPEGs of the outdoor clip, made by ffmpeg) that send on a fixed
//! schedule, never waiting for results. The server's CPU time and resident memory come
//! from `/proc/PID/{stat,status}`; its log goes to a file under the target folder.
//!
//! ```text
//! export LIVEPOSE_MODELS=... LIVEPOSE_MEDIA=...    # or LIVEPOSE_SHARED; see tests/support/data.rs
//! cargo bench --bench server_load -- smoke        # paced, K = 1 and 4, 3 repetitions of 3 s (CI)
//! cargo bench --bench server_load -- paced [--streams 1,4] [--fps 30] [--seconds 5] [--repetitions 20]
//! cargo bench --bench server_load -- soak [--streams 100] [--fps 30] [--seconds 300]
//! cargo bench --bench server_load -- storm [--disconnects 1000] [--wave 50] [--rounds 1]
//! cargo bench --bench server_load -- never-read [--baseline 10] [--seconds 60]
//! cargo bench --bench server_load -- capacity [--streams 16] [--fps 30] [--seconds 15] [--offline-seconds 5]
//! ```
//!
//! - `paced`: K streams at F fps, fresh connections each repetition, one server: per
//!   connection p50/p95 client latency (frame sent to its result received) against the
//!   server total (`server_end_us - server_recv_us` in the result); target: no
//!   connection's p50 latency exceeds its p50 server total by more than 1.5 ms.
//! - `soak`: many streams at saturation (latest-wins drops frames): RSS over time and its
//!   slope over the second half, results per stream (fairness: min/mean >= 0.5).
//! - `storm`: connections cut by TCP resets (SO_LINGER 0, no WebSocket close) with frames
//!   in flight: streams left listed by `/streams` (target 0), RSS before and after
//!   (target: within 5%).
//! - `never-read`: 4 measured streams, then a fifth client that sends and never reads:
//!   the 4 streams' p50 latency before and during (target: < 10% change), RSS during.
//! - `capacity`: the pipeline offline in this process (CPU per frame, one thread) against
//!   the server at 16 x 30 fps (CPU per result: efficiency target >= 0.85); idle RSS
//!   (target <= 120 MB) and RSS under load (target <= 150 MB).
//!
//! `--serve-arg=FLAG` (repeat) adds a flag to every `livepose serve` a scenario starts, e.g.
//! `--serve-arg=--workers=1`. `LIVEPOSE_SERVER_BIN` names another `livepose` binary to start instead of the one Cargo
//! built. Without a scenario, `cargo bench` runs `smoke`. In test mode (`cargo test --benches`:
//! no `--bench` argument) it starts the server and sends a few frames only.
//! MB here is 10^6 bytes.

#[path = "../tests/support/frames.rs"]
mod frames;

#[path = "server_load/client.rs"]
mod client;
#[path = "server_load/server.rs"]
mod server;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};
use tokio::time::Instant;

use client::{Cut, Frames, Percentiles, StormOutcome, StreamRun};
use server::ServerProcess;

#[derive(Parser)]
#[command(name = "server_load")]
struct Cli {
    #[command(subcommand)]
    scenario: Option<Scenario>,
    /// An extra flag for `livepose serve`, after the scenario's own (repeat; e.g.
    /// `--serve-arg=--workers=1`).
    #[arg(long = "serve-arg", global = true, allow_hyphen_values = true)]
    serve_args: Vec<String>,
}

#[derive(Subcommand)]
enum Scenario {
    /// K streams at F fps, R repetitions with fresh connections: latency vs server total.
    Paced {
        #[arg(long, value_delimiter = ',', default_values_t = [1, 4])]
        streams: Vec<usize>,
        #[arg(long, default_value_t = 30.0)]
        fps: f64,
        #[arg(long, default_value_t = 5.0)]
        seconds: f64,
        #[arg(long, default_value_t = 20)]
        repetitions: usize,
    },
    /// Many streams for minutes: RSS slope and fairness.
    Soak {
        #[arg(long, default_value_t = 100)]
        streams: usize,
        #[arg(long, default_value_t = 30.0)]
        fps: f64,
        #[arg(long, default_value_t = 300.0)]
        seconds: f64,
    },
    /// Abrupt disconnects (TCP resets) in waves.
    Storm {
        #[arg(long, default_value_t = 1000)]
        disconnects: usize,
        #[arg(long, default_value_t = 50)]
        wave: usize,
        /// Storms one after the other (memory growth per storm or a plateau).
        #[arg(long, default_value_t = 1)]
        rounds: usize,
    },
    /// A client that never reads, next to 4 measured streams.
    NeverRead {
        #[arg(long, default_value_t = 10.0)]
        baseline: f64,
        #[arg(long, default_value_t = 60.0)]
        seconds: f64,
    },
    /// Offline CPU per frame against the server's CPU per result; memory idle and loaded.
    Capacity {
        #[arg(long, default_value_t = 16)]
        streams: usize,
        #[arg(long, default_value_t = 30.0)]
        fps: f64,
        #[arg(long, default_value_t = 15.0)]
        seconds: f64,
        #[arg(long, default_value_t = 5.0)]
        offline_seconds: f64,
    },
    /// `paced` for CI: K = 1 and 4, 3 repetitions of 3 s.
    Smoke,
}

/// Results whose frame was sent in the first `WARM_UP` of a connection are left out.
const WARM_UP: Duration = Duration::from_millis(500);

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "NOT MET"
    }
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if !args.iter().any(|a| a == "--bench") {
        runtime().block_on(test_mode());
        return;
    }
    let cli = Cli::parse_from(args.iter().filter(|a| *a != "--bench"));
    let frames = client::frames();
    server::EXTRA_ARGS.get_or_init(|| cli.serve_args.clone());
    println!(
        "server: {} serve ... {}",
        server::binary().display(),
        cli.serve_args.join(" ")
    );
    println!(
        "{} frames of {} at 854x480, {:.0} KB on average; {} cores",
        frames.len(),
        frames::OUTDOOR,
        frames.iter().map(Vec::len).sum::<usize>() as f64 / frames.len() as f64 / 1e3,
        cores()
    );
    println!("load average at start: {}", loadavg());
    match cli.scenario.unwrap_or(Scenario::Smoke) {
        Scenario::Paced {
            streams,
            fps,
            seconds,
            repetitions,
        } => runtime().block_on(paced(frames, &streams, fps, seconds, repetitions)),
        Scenario::Smoke => {
            println!("smoke: paced with K = 1 and 4, 3 repetitions of 3 s");
            runtime().block_on(paced(frames, &[1, 4], 30.0, 3.0, 3));
        }
        Scenario::Soak {
            streams,
            fps,
            seconds,
        } => runtime().block_on(soak(frames, streams, fps, seconds)),
        Scenario::Storm {
            disconnects,
            wave,
            rounds,
        } => runtime().block_on(storm(frames, disconnects, wave.max(1), rounds)),
        Scenario::NeverRead { baseline, seconds } => {
            runtime().block_on(never_read(frames, baseline, seconds))
        }
        Scenario::Capacity {
            streams,
            fps,
            seconds,
            offline_seconds,
        } => {
            let offline = offline_cpu_per_frame(&frames, offline_seconds);
            runtime().block_on(capacity(frames, offline, streams, fps, seconds));
        }
    }
    println!(
        "load average at end: {} (the figures are only as good as the machine was quiet)",
        loadavg()
    );
}

/// `/proc/loadavg`: other work on the machine skews every figure here.
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// `cargo test --benches`: the server starts and answers a few frames.
async fn test_mode() {
    let server = ServerProcess::start("server_load.test.log", &[]);
    server.wait_healthy().await;
    let frames: Frames = Arc::new(vec![frames::jpeg_frame(frames::OUTDOOR, 0, 854, 480)]);
    let run = client::paced(
        server.addr,
        frames,
        0,
        30.0,
        Duration::from_millis(200),
        None,
    )
    .await;
    println!(
        "server_load (test mode): {} frames sent, {} results; run with `cargo bench --bench server_load -- <scenario>`",
        run.sent,
        run.samples.len()
    );
}

/// K streams at once, `fps` each for `seconds`, starting frames spread over the clip.
async fn streams_at_once(
    server: &ServerProcess,
    frames: &Frames,
    k: usize,
    fps: f64,
    seconds: f64,
    results: Option<Arc<AtomicU64>>,
) -> Vec<tokio::task::JoinHandle<StreamRun>> {
    (0..k)
        .map(|c| {
            let (frames, results) = (frames.clone(), results.clone());
            let addr = server.addr;
            tokio::spawn(async move {
                // Spread the streams' schedules over one frame period.
                tokio::time::sleep(Duration::from_secs_f64(c as f64 / k as f64 / fps)).await;
                let run_for = Duration::from_secs_f64(seconds);
                client::paced(addr, frames, c * 7, fps, run_for, results).await
            })
        })
        .collect()
}

async fn join(handles: Vec<tokio::task::JoinHandle<StreamRun>>) -> Vec<StreamRun> {
    let mut runs = Vec::new();
    for handle in handles {
        runs.push(handle.await.expect("a stream task"));
    }
    runs
}

async fn paced(frames: Frames, ks: &[usize], fps: f64, seconds: f64, repetitions: usize) {
    let server = ServerProcess::start("server_load.paced.log", &[]);
    server.wait_healthy().await;
    println!(
        "== paced: K streams x {fps} fps for {seconds} s, {repetitions} repetitions (fresh connections each, one server); \
         results of frames sent in the first {} ms of each connection left out",
        WARM_UP.as_millis()
    );
    println!("   diff = client latency - server total (server_end_us - server_recv_us), ms");
    let mut verdicts = Vec::new();
    for &k in ks {
        println!("\n| K | rep | conn | sent | results | latency p50 | server p50 | p50 diff | latency p95 | server p95 | p95 diff |");
        println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        let mut diffs = Vec::new();
        for rep in 0..repetitions {
            let runs = join(streams_at_once(&server, &frames, k, fps, seconds, None).await).await;
            for (c, run) in runs.iter().enumerate() {
                let (lat, srv) = run.summaries(WARM_UP..Duration::MAX);
                let diff = ms(lat.p50) - ms(srv.p50);
                diffs.push(diff);
                println!(
                    "| {k} | {rep} | {c} | {} | {} | {:.2} | {:.2} | {diff:+.2} | {:.2} | {:.2} | {:+.2} |{}",
                    run.sent,
                    lat.count,
                    ms(lat.p50),
                    ms(srv.p50),
                    ms(lat.p95),
                    ms(srv.p95),
                    ms(lat.p95) - ms(srv.p95),
                    run.error.as_deref().map(|e| format!(" {e}")).unwrap_or_default(),
                );
            }
        }
        let worst = diffs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let over = diffs.iter().filter(|d| **d > 1.5).count();
        let median =
            Percentiles::of(diffs.iter().map(|d| (d.max(0.0) * 1000.0) as u64).collect()).p50;
        let line = format!(
            "K = {k}: p50 diff over {} connections: median {:.2} ms, worst {worst:+.2} ms; {over} connections over 1.5 ms (target: none): {}",
            diffs.len(),
            ms(median),
            verdict(over == 0)
        );
        println!("{line}");
        verdicts.push(line);
    }
    println!("\n== paced summary");
    for line in verdicts {
        println!("{line}");
    }
    server.report_log();
}

/// CPU time so far of the server, of this process (the clients) and of the whole machine.
#[derive(Clone, Copy)]
struct CpuMark {
    server: f64,
    clients: f64,
    machine: (u64, u64),
    at: Instant,
}

impl CpuMark {
    fn now(server: &ServerProcess) -> CpuMark {
        CpuMark {
            server: server.cpu_secs(),
            clients: server::cpu_secs_of("self"),
            machine: server::machine_ticks(),
            at: Instant::now(),
        }
    }

    /// Seconds from `self` to `later`, and the server's CPU seconds meanwhile.
    fn server_secs(&self, later: &CpuMark) -> (f64, f64) {
        (
            (later.at - self.at).as_secs_f64(),
            later.server - self.server,
        )
    }

    /// Cores used from `self` to `later` by the server, the clients, and everything else.
    fn describe(&self, later: &CpuMark) -> String {
        let (secs, server) = self.server_secs(later);
        let clients = (later.clients - self.clients) / secs;
        let (busy, total) = (
            later.machine.0 - self.machine.0,
            (later.machine.1 - self.machine.1).max(1),
        );
        let machine = busy as f64 / total as f64 * cores() as f64;
        format!(
            "server {:.2} cores, clients (this process) {clients:.2}, the rest of the machine {:.2}; machine {:.0}% busy ({} cores)",
            server / secs,
            machine - server / secs - clients,
            machine / cores() as f64 * 100.0,
            cores()
        )
    }
}

/// Least-squares slope of `(x, y)` points.
fn slope(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    let (mx, my) = (
        points.iter().map(|p| p.0).sum::<f64>() / n,
        points.iter().map(|p| p.1).sum::<f64>() / n,
    );
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    sxy / sxx
}

async fn soak(frames: Frames, streams: usize, fps: f64, seconds: f64) {
    let server = ServerProcess::start(
        "server_load.soak.log",
        &[
            "--max-connections",
            "4096",
            "--max-connections-per-ip",
            "4096",
        ],
    );
    server.wait_healthy().await;
    let idle = server.rss_mb();
    println!("== soak: {streams} streams x {fps} fps for {seconds} s (the server is saturated: latest-wins drops frames, as expected)");
    // One stream first, so that the engines (built on a worker's first frame) are in `warm`.
    join(streams_at_once(&server, &frames, 1, fps, 2.0, None).await).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let warm = server.rss_mb();
    let results = Arc::new(AtomicU64::new(0));
    let handles = streams_at_once(
        &server,
        &frames,
        streams,
        fps,
        seconds,
        Some(results.clone()),
    )
    .await;
    let start = Instant::now();
    let (first_mark, mut last_mark) = (CpuMark::now(&server), CpuMark::now(&server));
    let mut rss = Vec::new();
    while !handles.iter().all(|h| h.is_finished()) {
        tokio::time::sleep_until(start + Duration::from_secs(rss.len() as u64 + 1)).await;
        let t = start.elapsed().as_secs_f64();
        if t <= seconds {
            rss.push((t, server.rss_mb()));
            last_mark = CpuMark::now(&server);
        }
    }
    let runs = join(handles).await;
    let metrics = server.metrics().await;
    let half: Vec<(f64, f64)> = rss
        .iter()
        .copied()
        .filter(|p| p.0 >= seconds / 2.0)
        .collect();
    let per_minute = if half.len() >= 2 {
        slope(&half) * 60.0
    } else {
        f64::NAN
    };
    let counts: Vec<usize> = runs.iter().map(|r| r.samples.len()).collect();
    let min = counts.iter().copied().min().unwrap_or(0);
    let mean = counts.iter().sum::<usize>() as f64 / counts.len().max(1) as f64;
    let sent: u64 = runs.iter().map(|r| r.sent).sum();
    let errors = runs.iter().filter(|r| r.error.is_some()).count();
    println!(
        "RSS: idle {idle:.1} MB, after one 2 s stream (engines built) {warm:.1} MB; under load at 1 s {:.1} MB, at end {:.1} MB, max {:.1} MB; slope over the second half {per_minute:+.3} MB/min ({} samples)",
        rss.first().map_or(0.0, |p| p.1),
        rss.last().map_or(0.0, |p| p.1),
        rss.iter().map(|p| p.1).fold(0.0, f64::max),
        half.len()
    );
    println!(
        "  RSS per stream at the end: ({:.1} - {warm:.1}) / {streams} = {:.2} MB",
        rss.last().map_or(0.0, |p| p.1),
        (rss.last().map_or(0.0, |p| p.1) - warm) / streams as f64
    );
    println!(
        "results per stream: min {min}, mean {mean:.1}, min/mean {:.2} (target >= 0.5: {})",
        min as f64 / mean,
        verdict(min as f64 / mean >= 0.5)
    );
    println!(
        "total: {sent} frames sent ({:.0}/s), {} results ({:.1}/s); {errors} streams ended with an error",
        sent as f64 / seconds,
        results.load(Ordering::Relaxed),
        results.load(Ordering::Relaxed) as f64 / seconds,
    );
    if let Some(e) = runs.iter().find_map(|r| r.error.as_deref()) {
        println!("  first error: {e}");
    }
    println!("CPU over the run: {}", first_mark.describe(&last_mark));
    println!("the server's /metrics at the end: {metrics}");
    server.report_log();
}

/// One storm: `disconnects` connections, `wave` at a time; the errors of those that could
/// not open.
async fn storm_round(
    server: &ServerProcess,
    frames: &Frames,
    disconnects: usize,
    wave: usize,
) -> Vec<String> {
    let cuts = [Cut::AfterSend, Cut::AfterResult, Cut::MidMessage];
    let mut refused = Vec::new();
    for first in (0..disconnects).step_by(wave) {
        let handles: Vec<_> = (first..(first + wave).min(disconnects))
            .map(|i| {
                let frames = frames.clone();
                let n = 1 + (i / 3 % 3) as u64;
                tokio::spawn(client::storm_one(server.addr, frames, i, n, cuts[i % 3]))
            })
            .collect();
        for handle in handles {
            if let StormOutcome::Refused(e) = handle.await.expect("a storm task") {
                refused.push(e);
            }
        }
    }
    refused
}

async fn storm(frames: Frames, disconnects: usize, wave: usize, rounds: usize) {
    let server = ServerProcess::start(
        "server_load.storm.log",
        &[
            "--max-connections",
            "4096",
            "--max-connections-per-ip",
            "4096",
        ],
    );
    server.wait_healthy().await;
    println!("== storm: {disconnects} connections cut by TCP resets (SO_LINGER 0, no WebSocket close), {wave} at a time, {rounds} round(s);");
    println!("   each sends 1-3 frames, then is reset right after its last frame, or after a result and one more frame, or halfway through a frame message");
    // Warm-up: one stream, so the engines are built before memory is read.
    let warm = join(streams_at_once(&server, &frames, 1, 30.0, 3.0, None).await).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = server.rss_mb();
    println!(
        "warm-up stream: {} results; streams listed before the storm: {:?}; RSS {before:.1} MB",
        warm[0].samples.len(),
        server.stream_count().await
    );
    for round in 1..=rounds {
        let started = Instant::now();
        let refused = storm_round(&server, &frames, disconnects, wave).await;
        let right_after = server.rss_mb();
        let storm_secs = started.elapsed().as_secs_f64();
        tokio::time::sleep(Duration::from_secs(1)).await;
        let listed = server.stream_count().await;
        let after = server.rss_mb();
        let change = (after - before) / before * 100.0;
        println!(
            "round {round}: {disconnects} connections in {storm_secs:.1} s, {} could not open{}",
            refused.len(),
            refused
                .first()
                .map(|e| format!(" (first: {e})"))
                .unwrap_or_default()
        );
        println!(
            "  streams listed by /streams 1 s after the last reset: {} (target 0: {})",
            listed.map_or("no answer".into(), |n| n.to_string()),
            verdict(listed == Some(0))
        );
        println!(
            "  RSS: before the storm {before:.1} MB, right after {right_after:.1} MB, 1 s after {after:.1} MB ({change:+.1}%; target within 5%: {})",
            verdict(change.abs() <= 5.0)
        );
    }
    // Whether what is left goes away later.
    tokio::time::sleep(Duration::from_secs(4)).await;
    println!(
        "5 s after the last round: {:?} streams listed, RSS {:.1} MB",
        server.stream_count().await,
        server.rss_mb()
    );
    let fresh = join(streams_at_once(&server, &frames, 1, 30.0, 1.0, None).await).await;
    println!(
        "a fresh stream after the storm: {} frames sent, {} results{}",
        fresh[0].sent,
        fresh[0].samples.len(),
        fresh[0]
            .error
            .as_deref()
            .map(|e| format!(", {e}"))
            .unwrap_or_default()
    );
    server.report_log();
}

async fn never_read(frames: Frames, baseline: f64, seconds: f64) {
    let server = ServerProcess::start("server_load.never-read.log", &[]);
    server.wait_healthy().await;
    println!(
        "== never-read: 4 streams x 30 fps; after {baseline} s, a fifth client sends 30 fps for {seconds} s and never reads (not even pings)"
    );
    let handles = streams_at_once(&server, &frames, 4, 30.0, baseline + seconds, None).await;
    let start = Instant::now();
    let phase = Duration::from_secs_f64(baseline);
    tokio::time::sleep_until(start + phase).await;
    let rss_before = server.rss_mb();
    let never = {
        let (addr, frames) = (server.addr, frames.clone());
        tokio::spawn(async move {
            client::never_read(addr, frames, 30.0, Duration::from_secs_f64(seconds)).await
        })
    };
    let mut rss = Vec::new();
    let mut listed = None;
    while !never.is_finished() {
        tokio::time::sleep(Duration::from_secs(1)).await;
        rss.push(server.rss_mb());
        if rss.len() == (seconds / 2.0) as usize {
            listed = server.stream_count().await;
        }
    }
    let never = never.await.expect("the never-read task");
    let runs = join(handles).await;
    // The 4 streams started within one frame period of `start`: phases by their own clock.
    // "During" ends when the never-reader's socket failed, if it did (closed by the server).
    let open_for = never
        .failed
        .as_ref()
        .map_or(Duration::from_secs_f64(seconds), |f| f.0);
    let before_window = WARM_UP..phase;
    let during_window = phase + WARM_UP..phase + open_for;
    println!(
        "\"during\": frames sent {:.1} s to {:.1} s after the 4 streams started (the never-reader open)",
        during_window.start.as_secs_f64(),
        during_window.end.as_secs_f64()
    );
    println!("| stream | p50 before | p50 during | change | p95 before | p95 during |");
    println!("| --- | --- | --- | --- | --- | --- |");
    let (mut all_before, mut all_during) = (Vec::new(), Vec::new());
    for (i, run) in runs.iter().enumerate() {
        let (b, _) = run.summaries(before_window.clone());
        let (d, _) = run.summaries(during_window.clone());
        println!(
            "| {i} | {:.2} ms | {:.2} ms | {:+.1}% | {:.2} ms | {:.2} ms |{}",
            ms(b.p50),
            ms(d.p50),
            (ms(d.p50) / ms(b.p50) - 1.0) * 100.0,
            ms(b.p95),
            ms(d.p95),
            run.error
                .as_deref()
                .map(|e| format!(" {e}"))
                .unwrap_or_default()
        );
        for s in &run.samples {
            if before_window.contains(&s.sent_at) {
                all_before.push(s.latency_us);
            } else if during_window.contains(&s.sent_at) {
                all_during.push(s.latency_us);
            }
        }
    }
    let (b, d) = (Percentiles::of(all_before), Percentiles::of(all_during));
    let change = (ms(d.p50) / ms(b.p50) - 1.0) * 100.0;
    println!(
        "4 streams together: p50 before {:.2} ms ({} results), during {:.2} ms ({} results): {change:+.1}% (target < 10%: {})",
        ms(b.p50),
        b.count,
        ms(d.p50),
        d.count,
        verdict(change < 10.0)
    );
    let (min, max) = rss.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), r| {
        (lo.min(*r), hi.max(*r))
    });
    println!(
        "server RSS: {rss_before:.1} MB before the never-reader; during: min {min:.1} MB, max {max:.1} MB, last {:.1} MB ({} samples; target: bounded)",
        rss.last().copied().unwrap_or(0.0),
        rss.len()
    );
    println!(
        "never-reader: {} frames sent; {}; streams listed halfway: {listed:?}",
        never.sent,
        match &never.failed {
            Some((at, why)) => format!("its socket failed {:.1} s in: {why}", at.as_secs_f64()),
            None => "open to the end".into(),
        } + &never.first_stall.map_or(String::new(), |at| {
            format!(", first send stalled over 1 s {:.1} s in", at.as_secs_f64())
        })
    );
    if let Some((unread, queued)) = never.unread {
        println!(
            "  last read while open: {:.0} KB unread in its receive queue, {:.0} KB in the server's send queue towards it",
            unread as f64 / 1e3,
            queued as f64 / 1e3
        );
    }
    server.report_log();
}

/// CPU time per frame (ms) of the lite pipeline in live mode, one thread, in this process.
fn offline_cpu_per_frame(frames: &Frames, seconds: f64) -> (f64, f64) {
    use livepose::core::inference::{Frame, Pipeline};
    use livepose::core::wire::control::{ModelKind, RunMode};
    use livepose::core::Timestamp;
    let mut pipeline = Pipeline::builder()
        .model(ModelKind::Lite)
        .mode(RunMode::Live)
        .models_dir(frames::data::models())
        .build()
        .expect("the lite pipeline");
    let mut process = |i: usize| {
        let ts = Timestamp::from_micros(i as u64 * 33_333);
        pipeline
            .process(Frame::Encoded(&frames[i % frames.len()]), Some(ts))
            .expect("a result");
    };
    (0..frames.len()).for_each(&mut process);
    let (cpu, wall) = (server::cpu_secs_of("self"), std::time::Instant::now());
    let mut n = 0;
    while wall.elapsed().as_secs_f64() < seconds {
        process(n);
        n += 1;
    }
    let cpu = server::cpu_secs_of("self") - cpu;
    (
        cpu * 1e3 / n as f64,
        n as f64 / wall.elapsed().as_secs_f64(),
    )
}

async fn capacity(frames: Frames, offline: (f64, f64), streams: usize, fps: f64, seconds: f64) {
    let (offline_ms, offline_wall_fps) = offline;
    let per_core = 1e3 / offline_ms;
    println!("== capacity");
    println!(
        "(a) offline, lite model, live mode, one thread: {offline_ms:.2} CPU ms per frame ({offline_wall_fps:.1} fps wall) = {per_core:.1} fps per core; ceiling {} cores x {per_core:.1} = {:.0} fps",
        cores(),
        cores() as f64 * per_core
    );
    let server = ServerProcess::start("server_load.capacity.log", &[]);
    server.wait_healthy().await;
    let idle = server.rss_mb();
    let results = Arc::new(AtomicU64::new(0));
    let handles = streams_at_once(
        &server,
        &frames,
        streams,
        fps,
        seconds,
        Some(results.clone()),
    )
    .await;
    let start = Instant::now();
    // Measured from 2 s in (engines built, queues full) to 0.5 s before the senders stop.
    let (from, to) = (
        Duration::from_secs(2),
        Duration::from_secs_f64((seconds - 0.5).max(2.5)),
    );
    let mut rss = Vec::new();
    tokio::time::sleep_until(start + from).await;
    let (r0, mark0) = (results.load(Ordering::Relaxed), CpuMark::now(&server));
    while start.elapsed() + Duration::from_secs(1) < to {
        tokio::time::sleep(Duration::from_secs(1)).await;
        rss.push(server.rss_mb());
    }
    tokio::time::sleep_until(start + to).await;
    let (r1, mark1) = (results.load(Ordering::Relaxed), CpuMark::now(&server));
    rss.push(server.rss_mb());
    let runs = join(handles).await;
    let (secs, server_cpu) = mark0.server_secs(&mark1);
    let per_second = (r1 - r0) as f64 / secs;
    let cpu_ms = server_cpu * 1e3 / (r1 - r0).max(1) as f64;
    let efficiency = offline_ms / cpu_ms;
    let at_load = rss.iter().copied().fold(0.0, f64::max);
    let lat = Percentiles::of(
        runs.iter()
            .flat_map(|r| r.samples.iter().map(|s| s.latency_us))
            .collect(),
    );
    println!(
        "(b) server, {streams} x {fps} fps, measured over {secs:.1} s: {per_second:.1} results/s ({:.0}% of the ceiling), server CPU {:.2} cores, {cpu_ms:.2} CPU ms per result; client latency p50 {:.1} ms",
        per_second / (cores() as f64 * per_core) * 100.0,
        server_cpu / secs,
        ms(lat.p50)
    );
    println!("    meanwhile: {}", mark0.describe(&mark1));
    println!(
        "efficiency = offline CPU per frame / server CPU per result = {offline_ms:.2} / {cpu_ms:.2} = {efficiency:.2} (target >= 0.85: {})",
        verdict(efficiency >= 0.85)
    );
    println!(
        "idle RSS {idle:.1} MB (target <= 120 MB: {}); RSS at {streams} x {fps} fps: max {at_load:.1} MB, last {:.1} MB (target <= 150 MB: {})",
        verdict(idle <= 120.0),
        rss.last().copied().unwrap_or(0.0),
        verdict(at_load <= 150.0)
    );
    server.report_log();
}
