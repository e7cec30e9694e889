//! The real server under load (a bench binary that prints its figures and asserts no
//! timings). Each scenario starts `livepose serve` as a child process on a free loopback
//! port, waits for `/health`, and talks to it with WebSocket clients (protocol v1 binary
//! frames: 854x480 JPEGs of the outdoor clip, made by ffmpeg) that send on a fixed
//! schedule, never waiting for results. The server's CPU time and resident memory come
//! from `/proc/PID/{stat,status}`; its log goes to a file under the target folder.
//!
//! ```text
//! export LIVEPOSE_MODELS=... LIVEPOSE_MEDIA=...    # or LIVEPOSE_SHARED; see livepose-test-support/src/data.rs
//! cargo bench --bench server_load -- smoke        # paced, K = 1 and 4, 3 repetitions of 3 s (CI)
//! cargo bench --bench server_load -- paced [--streams 1,4] [--fps 30] [--seconds 5] [--repetitions 20]
//! cargo bench --bench server_load -- soak [--streams 100] [--fps 30] [--seconds 300]
//! cargo bench --bench server_load -- storm [--disconnects 1000] [--wave 50] [--rounds 1]
//! cargo bench --bench server_load -- never-read [--baseline 10] [--seconds 60]
//! cargo bench --bench server_load -- capacity [--streams 16] [--fps 30] [--seconds 15] [--offline-seconds 5]
//! cargo bench --bench server_load -- codecs [--seconds 10] [--repetitions 3]
//! cargo bench --bench server_load -- rtsp [--seconds 15] [--warmup 5] [--repetitions 3]
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
//! - `codecs`: one stream of the uplink camera (640x480, 30 fps) as JPEG q80 and as H.264
//!   at 1 Mbit/s, fresh connections, alternating: the server's CPU per result (goal: H.264
//!   <= 1.2x JPEG's).
//! - `rtsp`: an RTSP camera (H.264, 640x480, 30 fps) as a room's source, a fresh server per
//!   run, passthrough against `--source-reencode`: CPU per camera (server + its ffmpeg).
//!
//! `--serve-arg=FLAG` (repeat) adds a flag to every `livepose serve` a scenario starts, e.g.
//! `--serve-arg=--workers=1`. `LIVEPOSE_SERVER_BIN` names another `livepose` binary to start instead of the one Cargo
//! built. Without a scenario, `cargo bench` runs `smoke`. In test mode (`cargo test --benches`:
//! no `--bench` argument) it starts the server and sends a few frames only.
//! MB here is 10^6 bytes.

mod client;
mod latency;
mod resources;
mod server;
mod video;

use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};
use livepose_test_support::frames;
use livepose_test_support::process::loadavg;
use tokio::time::Instant;

use client::{Frames, StreamRun};
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
    /// One stream sent as JPEG and as H.264 (640x480, 30 fps): the server's CPU per result.
    Codecs {
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
        #[arg(long, default_value_t = 3)]
        repetitions: usize,
    },
    /// An RTSP camera's H.264 passed through against re-encoded: CPU per camera.
    Rtsp {
        #[arg(long, default_value_t = 15.0)]
        seconds: f64,
        #[arg(long, default_value_t = 5.0)]
        warmup: f64,
        #[arg(long, default_value_t = 3)]
        repetitions: usize,
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
        } => runtime().block_on(latency::paced(frames, &streams, fps, seconds, repetitions)),
        Scenario::Codecs {
            seconds,
            repetitions,
        } => runtime().block_on(video::codecs(seconds, repetitions)),
        Scenario::Rtsp {
            seconds,
            warmup,
            repetitions,
        } => runtime().block_on(video::rtsp(seconds, warmup, repetitions)),
        Scenario::Smoke => {
            println!("smoke: paced with K = 1 and 4, 3 repetitions of 3 s");
            runtime().block_on(latency::paced(frames, &[1, 4], 30.0, 3.0, 3));
        }
        Scenario::Soak {
            streams,
            fps,
            seconds,
        } => runtime().block_on(resources::soak(frames, streams, fps, seconds)),
        Scenario::Storm {
            disconnects,
            wave,
            rounds,
        } => runtime().block_on(resources::storm(frames, disconnects, wave.max(1), rounds)),
        Scenario::NeverRead { baseline, seconds } => {
            runtime().block_on(latency::never_read(frames, baseline, seconds))
        }
        Scenario::Capacity {
            streams,
            fps,
            seconds,
            offline_seconds,
        } => {
            let offline = resources::offline_cpu_per_frame(&frames, offline_seconds);
            runtime().block_on(resources::capacity(frames, offline, streams, fps, seconds));
        }
    }
    println!(
        "load average at end: {} (the figures are only as good as the machine was quiet)",
        loadavg()
    );
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
