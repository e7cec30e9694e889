//! What a cluster hop costs (a bench binary that prints its figures and asserts no timings).
//! It starts a real `nats-server -js` and `livepose serve --nats` nodes as child processes
//! (`livepose_test_support::process`, shared with `tests/cluster.rs`) and talks to them over
//! loopback.
//!
//! ```text
//! export LIVEPOSE_MODELS=... LIVEPOSE_MEDIA=...   # or LIVEPOSE_SHARED; see livepose-test-support/src/data.rs
//! cargo bench --bench cluster_hop                 # both scenarios, full length
//! cargo bench --bench cluster_hop -- smoke        # both, short (CI): 3 s phases, 1 repetition, 10 viewers
//! cargo bench --bench cluster_hop -- hop [smoke]
//! cargo bench --bench cluster_hop -- nats_rtt [smoke]
//! ```
//!
//! - `hop`: NATS, node A and node B. One camera on A sends 540x960 JPEGs of the dance clip
//!   (every other frame from frame 20, looped; about 50 KB) at 30 fps on a fixed schedule,
//!   never waiting for results, to room
//!   `bench`; one viewer on A is the local reference. Phase 1: no remote viewer (what the
//!   camera's node, B and NATS cost with nobody on B). Phase 2: 50 viewers on B, each its
//!   own WebSocket. Every result is matched by its `sequence` between the local viewer and
//!   each remote one: the hop's added latency is remote receive − local receive (one clock,
//!   this process). Printed: p50/p95/max over all remote viewers, the spread of the
//!   per-viewer p50s, results per viewer (and how many the local viewer got that a remote
//!   one missed), and CPU of A, B and nats-server in each phase, from
//!   `/proc/PID/task/*/schedstat` (nanoseconds) and from `/proc/PID/stat` (utime + stime,
//!   10 ms ticks: too coarse for B), with B's CPU per result relayed and per result
//!   delivered above what B spends idle (phase 1). 10 s phases,
//!   3 repetitions with fresh connections on the same processes.
//! - `nats_rtt`: request/reply through the same kind of nats-server with `async-nats` (the
//!   client livepose uses), requester and responder on their own connections: 1 KB echoed,
//!   60 KB echoed, and 60 KB out with 1 KB back (a frame out, a result back). 200 round
//!   trips after 20 of warm-up: p50/p95/max and MB/s (bytes both ways over the time).
//!
//! Everything (the clients, the three servers, inference) shares this machine's cores: the
//! receive times include this process's scheduling, and the figures are only as good as
//! the machine was quiet (the load average is printed). In test mode (`cargo test
//! --benches`: no `--bench` argument) it runs a 1 s `hop` with 2 viewers and 20 round trips.
//! MB here is 10^6 bytes.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use livepose::core::image::Codec;
use livepose::core::wire::{FrameHeader, ImageFormat, ResultView};
use livepose_test_support::data;
use livepose_test_support::process::{loadavg, Nats, Node};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::{Bytes, Message};

/// The `livepose` command cargo built for this bench (feature `cli`).
const LIVEPOSE: &str = env!("CARGO_BIN_EXE_livepose");

/// How long and how wide each scenario runs.
#[derive(Clone, Copy)]
struct Plan {
    phase: Duration,
    repetitions: usize,
    viewers: usize,
    round_trips: usize,
    warm_up_trips: usize,
}

const FULL: Plan = Plan {
    phase: Duration::from_secs(10),
    repetitions: 3,
    viewers: 50,
    round_trips: 200,
    warm_up_trips: 20,
};
const SMOKE: Plan = Plan {
    phase: Duration::from_secs(3),
    repetitions: 1,
    viewers: 10,
    round_trips: 200,
    warm_up_trips: 20,
};
const TEST: Plan = Plan {
    phase: Duration::from_secs(1),
    repetitions: 1,
    viewers: 2,
    round_trips: 20,
    warm_up_trips: 5,
};

const FPS: f64 = 30.0;
const ROOM: &str = "bench";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let bench = args.iter().any(|a| a == "--bench");
    let plan = if !bench {
        TEST
    } else if args.iter().any(|a| a == "smoke") {
        SMOKE
    } else {
        FULL
    };
    let named: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| matches!(*a, "hop" | "nats_rtt"))
        .collect();
    let runs = |scenario: &str| named.is_empty() || named.contains(&scenario);
    println!(
        "cluster_hop: {} s phases, {} repetition(s), {} remote viewers, {} round trips; {} cores; load average at start: {}",
        plan.phase.as_secs_f64(),
        plan.repetitions,
        plan.viewers,
        plan.round_trips,
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        loadavg()
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    if runs("hop") {
        runtime.block_on(hop(plan));
    }
    if runs("nats_rtt") {
        runtime.block_on(nats_rtt(plan));
    }
    println!(
        "load average at end: {} (the figures are only as good as the machine was quiet)",
        loadavg()
    );
}

// ---------------------------------------------------------------------------------------
// hop

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(url: &str) -> Ws {
    tokio_tungstenite::connect_async(url)
        .await
        .unwrap_or_else(|e| panic!("connect {url}: {e}"))
        .0
}

/// Up to 60 frames of the dance clip (every other one from frame 20: 30 fps, one person),
/// 540x960 JPEGs made by ffmpeg.
fn dance_jpegs() -> Vec<Vec<u8>> {
    let dir = std::env::temp_dir().join(format!("livepose-cluster-hop-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let status = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(data::clip("lab_dance_1080x1920_60fps.mp4"))
        .args([
            "-vf",
            "select=between(n\\,20\\,139)*not(mod(n\\,2)),scale=540:960",
            "-fps_mode",
            "passthrough",
            "-frames:v",
            "60",
            "-q:v",
            "4",
        ])
        .arg(dir.join("%03d.jpg"))
        .status()
        .expect("ffmpeg");
    assert!(status.success(), "ffmpeg failed");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    let jpegs: Vec<Vec<u8>> = names.iter().map(|p| std::fs::read(p).unwrap()).collect();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(!jpegs.is_empty(), "ffmpeg made no frame");
    jpegs
}

fn frame(sequence: u64, jpeg: &[u8]) -> Message {
    let mut bytes = Vec::new();
    FrameHeader::new(sequence, 0, ImageFormat::Encoded(Codec::Jpeg))
        .encode_with_payload(jpeg, &mut bytes)
        .unwrap();
    Message::Binary(bytes.into())
}

/// The camera: one frame every 1/FPS on a fixed schedule (open loop), what comes back read
/// and dropped. Ends when `stop` flips; returns the frames sent.
async fn camera(
    url: String,
    jpegs: Arc<Vec<Vec<u8>>>,
    stop: tokio::sync::watch::Receiver<bool>,
) -> u64 {
    let ws = connect(&url).await;
    let (mut sink, mut source) = ws.split();
    let drain = tokio::spawn(async move { while let Some(Ok(_)) = source.next().await {} });
    let mut ticks = tokio::time::interval(Duration::from_secs_f64(1.0 / FPS));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut sequence = 0u64;
    while !*stop.borrow() {
        ticks.tick().await;
        sequence += 1;
        let jpeg = &jpegs[(sequence as usize) % jpegs.len()];
        if sink.send(frame(sequence, jpeg)).await.is_err() {
            break;
        }
    }
    let _ = sink.send(Message::Close(None)).await;
    let _ = tokio::time::timeout(Duration::from_secs(2), drain).await;
    sequence
}

/// A viewer: every result's sequence and when it came, until `stop` flips.
async fn viewer(
    url: String,
    mut stop: tokio::sync::watch::Receiver<bool>,
    first: tokio::sync::mpsc::UnboundedSender<()>,
) -> Vec<(u64, Instant)> {
    let mut ws = connect(&url).await;
    let mut got = Vec::with_capacity(1024);
    loop {
        tokio::select! {
            message = ws.next() => match message {
                Some(Ok(Message::Binary(bytes))) => {
                    let at = Instant::now();
                    if let Ok(result) = ResultView::parse(&bytes) {
                        if got.is_empty() {
                            let _ = first.send(());
                        }
                        got.push((result.sequence, at));
                    }
                }
                Some(Ok(_)) => {}
                _ => break,
            },
            _ = stop.changed() => break,
        }
    }
    let _ = ws.close(None).await;
    got
}

/// Clock ticks per second for `/proc/PID/stat` (`getconf CLK_TCK`, 100 on Linux).
fn clock_ticks() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// User plus system CPU of `pid` so far, seconds.
fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces): state is field 3, utime 14.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i).and_then(|f| f.parse::<u64>().ok()))
        .sum();
    ticks as f64 / clock_ticks()
}

/// The nats-server listening on `port` (found by its command line).
fn nats_pid(port: u16) -> Option<u32> {
    let wanted = port.to_string();
    std::fs::read_dir("/proc").ok()?.find_map(|entry| {
        let entry = entry.ok()?;
        let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
        let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
        let args: Vec<&[u8]> = cmdline.split(|&b| b == 0).collect();
        let is_nats = args.first().is_some_and(|a| a.ends_with(b"nats-server"));
        let on_port = args
            .windows(2)
            .any(|w| w[0] == b"-p" && w[1] == wanted.as_bytes());
        (is_nats && on_port).then_some(pid)
    })
}

/// CPU seconds so far of `pid` summed over its threads from `/proc/PID/task/*/schedstat`
/// (nanoseconds on a CPU: precise where utime + stime count 10 ms ticks; threads that
/// ended are missing, which a long-lived server's pool threads are not).
fn sched_secs(pid: u32) -> f64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0.0;
    };
    tasks
        .filter_map(|task| {
            let text = std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
            text.split_whitespace().next()?.parse::<u64>().ok()
        })
        .sum::<u64>() as f64
        / 1e9
}

/// CPU seconds so far of one process: (utime + stime, schedstat).
fn cpu_pair(pid: u32) -> (f64, f64) {
    (cpu_secs(pid), sched_secs(pid))
}

/// CPU seconds so far of node A, node B and nats-server (each as utime + stime and as
/// schedstat), and when.
#[derive(Clone, Copy)]
struct Cpu {
    a: (f64, f64),
    b: (f64, f64),
    nats: (f64, f64),
    at: Instant,
}

/// CPU seconds of A, B and nats-server over a phase, by either measure, and its length.
#[derive(Clone, Copy, Default)]
struct CpuUse {
    secs: f64,
    /// utime + stime (clock ticks).
    ticks: [f64; 3],
    /// schedstat (nanoseconds).
    sched: [f64; 3],
}

impl Cpu {
    fn now(a: u32, b: u32, nats: Option<u32>) -> Cpu {
        Cpu {
            a: cpu_pair(a),
            b: cpu_pair(b),
            nats: nats.map_or((0.0, 0.0), cpu_pair),
            at: Instant::now(),
        }
    }

    fn since(&self, later: &Cpu) -> CpuUse {
        CpuUse {
            secs: (later.at - self.at).as_secs_f64(),
            ticks: [
                later.a.0 - self.a.0,
                later.b.0 - self.b.0,
                later.nats.0 - self.nats.0,
            ],
            sched: [
                later.a.1 - self.a.1,
                later.b.1 - self.b.1,
                later.nats.1 - self.nats.1,
            ],
        }
    }
}

fn get_json(port: u16, path: &str) -> serde_json::Value {
    use std::io::{Read, Write};
    let Ok(mut socket) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return serde_json::Value::Null;
    };
    let _ = write!(
        socket,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    );
    let mut response = String::new();
    let _ = socket.read_to_string(&mut response);
    let body = response.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    serde_json::from_str(body).unwrap_or(serde_json::Value::Null)
}

/// Waits until `node` sees both nodes in the cluster (its NATS connection is made in the
/// background).
fn wait_joined(node: &Node) {
    let started = std::time::Instant::now();
    loop {
        let rooms = get_json(node.port, "/rooms?scope=cluster");
        if rooms["nodes"].as_array().is_some_and(|n| n.len() == 2) {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "node {} never saw two nodes: {rooms}",
            node.id
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (p / 100.0 * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn sorted(mut values: Vec<f64>) -> Vec<f64> {
    values.sort_by(|a, b| a.total_cmp(b));
    values
}

/// One repetition's figures.
struct HopRun {
    /// Added latency of every matched result on every remote viewer, ms.
    deltas: Vec<f64>,
    /// Each remote viewer's p50, ms.
    viewer_p50s: Vec<f64>,
    /// Results each remote viewer got in the measured window.
    viewer_results: Vec<usize>,
    /// Results the local viewer got in the window (phase 2), and in phase 1.
    local_results: usize,
    local_results_alone: usize,
    /// Results the local viewer got in the window that a remote viewer never got, summed.
    missed: usize,
    frames_sent: u64,
    /// CPU with no remote viewer, then with them.
    cpu_alone: CpuUse,
    cpu_remote: CpuUse,
}

async fn hop(plan: Plan) {
    let jpegs = Arc::new(dance_jpegs());
    println!(
        "\n== hop: camera on A at {FPS} fps ({} frames of the dance clip, 540x960, {:.0} KB on average), 1 viewer on A, {} on B ==",
        jpegs.len(),
        jpegs.iter().map(Vec::len).sum::<usize>() as f64 / jpegs.len() as f64 / 1e3,
        plan.viewers
    );
    let nats = Nats::start();
    let models = data::models();
    // Every viewer comes from 127.0.0.1: above the default 32 sockets per address.
    let per_ip = (plan.viewers + 8).max(32).to_string();
    let extra = ["--max-connections-per-ip", per_ip.as_str()];
    let a = Node::start(LIVEPOSE, "a", &nats.url(), &models, &extra);
    let b = Node::start(LIVEPOSE, "b", &nats.url(), &models, &extra);
    let (a_id, b_id) = (a.id.clone(), b.id.clone());
    let (a_port, b_port) = (a.port, b.port);
    let joined = tokio::task::spawn_blocking(move || {
        wait_joined(&a);
        wait_joined(&b);
        (a, b)
    });
    let (a, b) = joined.await.unwrap();
    let nats_pid = nats_pid(nats.port);
    println!(
        "binary {}; nodes {a_id} (pid {}, port {a_port}) and {b_id} (pid {}, port {b_port}) with --workers 1 {}; nats-server pid {}",
        LIVEPOSE,
        a.pid(),
        b.pid(),
        extra.join(" "),
        nats_pid.map_or("not found".into(), |p| p.to_string())
    );
    let mut runs = Vec::new();
    for repetition in 0..plan.repetitions {
        let run = hop_once(&a, &b, nats_pid, jpegs.clone(), plan).await;
        print_hop_run(repetition + 1, &run, plan);
        runs.push(run);
        // The room closes with its camera; the next repetition starts with a fresh one.
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    print_hop_summary(&runs, plan);
    drop((a, b, nats));
}

async fn hop_once(
    a: &Node,
    b: &Node,
    nats_pid: Option<u32>,
    jpegs: Arc<Vec<Vec<u8>>>,
    plan: Plan,
) -> HopRun {
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let (first_tx, mut first) = tokio::sync::mpsc::unbounded_channel();
    let local = tokio::spawn(viewer(
        a.ws(&format!("/ws/rooms/{ROOM}/view")),
        stop.clone(),
        first_tx.clone(),
    ));
    let camera = tokio::spawn(camera(
        a.ws(&format!("/ws/rooms/{ROOM}/camera?token=cam")),
        jpegs,
        stop.clone(),
    ));
    tokio::time::timeout(Duration::from_secs(60), first.recv())
        .await
        .expect("no result on the local viewer within 60 s");
    // Let the stream settle (tracker on, engines warm).
    tokio::time::sleep(Duration::from_secs(1)).await;

    // Phase 1: no remote viewer.
    let alone_from = Instant::now();
    let before = Cpu::now(a.pid(), b.pid(), nats_pid);
    tokio::time::sleep(plan.phase).await;
    let after = Cpu::now(a.pid(), b.pid(), nats_pid);
    let alone_to = Instant::now();
    let cpu_alone = before.since(&after);

    // Phase 2: the remote viewers, each on its own socket; measured once all have a result.
    let remotes: Vec<_> = (0..plan.viewers)
        .map(|_| {
            tokio::spawn(viewer(
                b.ws(&format!("/ws/rooms/{ROOM}/view")),
                stop.clone(),
                first_tx.clone(),
            ))
        })
        .collect();
    for _ in 0..plan.viewers {
        tokio::time::timeout(Duration::from_secs(30), first.recv())
            .await
            .expect("a remote viewer got no result within 30 s");
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let from = Instant::now();
    let before = Cpu::now(a.pid(), b.pid(), nats_pid);
    tokio::time::sleep(plan.phase).await;
    let after = Cpu::now(a.pid(), b.pid(), nats_pid);
    let to = Instant::now();
    let cpu_remote = before.since(&after);

    stop_tx.send_replace(true);
    let frames_sent = camera.await.unwrap();
    let local = local.await.unwrap();
    let mut remote = Vec::new();
    for task in remotes {
        remote.push(task.await.unwrap());
    }

    let local_at: HashMap<u64, Instant> = local.iter().copied().collect();
    let in_window = |at: &Instant| *at >= from && *at < to;
    let local_results = local.iter().filter(|(_, at)| in_window(at)).count();
    let local_results_alone = local
        .iter()
        .filter(|(_, at)| *at >= alone_from && *at < alone_to)
        .count();
    let mut deltas = Vec::new();
    let mut viewer_p50s = Vec::new();
    let mut viewer_results = Vec::new();
    let mut missed = 0;
    for got in &remote {
        let seen: HashMap<u64, Instant> = got.iter().copied().collect();
        let mine: Vec<f64> = got
            .iter()
            .filter(|(_, at)| in_window(at))
            .filter_map(|(sequence, at)| {
                let local = local_at.get(sequence)?;
                // Signed: a remote viewer may be scheduled before the local one.
                Some(if at >= local {
                    (*at - *local).as_secs_f64() * 1e3
                } else {
                    -((*local - *at).as_secs_f64() * 1e3)
                })
            })
            .collect();
        viewer_results.push(got.iter().filter(|(_, at)| in_window(at)).count());
        missed += local
            .iter()
            .filter(|(sequence, at)| in_window(at) && !seen.contains_key(sequence))
            .count();
        let mine = sorted(mine);
        viewer_p50s.push(percentile(&mine, 50.0));
        deltas.extend(mine);
    }
    HopRun {
        deltas: sorted(deltas),
        viewer_p50s: sorted(viewer_p50s),
        viewer_results,
        local_results,
        local_results_alone,
        missed,
        frames_sent,
        cpu_alone,
        cpu_remote,
    }
}

fn print_hop_run(repetition: usize, run: &HopRun, plan: Plan) {
    let (alone, remote) = (&run.cpu_alone, &run.cpu_remote);
    let results = &run.viewer_results;
    println!(
        "rep {repetition}: {} frames sent; local viewer {} results alone ({:.1}/s), {} with remote viewers ({:.1}/s)",
        run.frames_sent,
        run.local_results_alone,
        run.local_results_alone as f64 / alone.secs,
        run.local_results,
        run.local_results as f64 / remote.secs,
    );
    println!(
        "  added latency over {} remote results: p50 {:.2} ms, p95 {:.2} ms, max {:.2} ms; per-viewer p50 {:.2}..{:.2} ms",
        run.deltas.len(),
        percentile(&run.deltas, 50.0),
        percentile(&run.deltas, 95.0),
        run.deltas.last().copied().unwrap_or(f64::NAN),
        run.viewer_p50s.first().copied().unwrap_or(f64::NAN),
        run.viewer_p50s.last().copied().unwrap_or(f64::NAN),
    );
    println!(
        "  results per remote viewer: min {}, mean {:.1}, max {} (local {}); local results missed by a remote viewer: {} of {}",
        results.iter().copied().min().unwrap_or(0),
        results.iter().sum::<usize>() as f64 / results.len().max(1) as f64,
        results.iter().copied().max().unwrap_or(0),
        run.local_results,
        run.missed,
        run.local_results * plan.viewers
    );
    let cores = |u: &CpuUse, i: usize| (u.ticks[i] / u.secs, u.sched[i] / u.secs);
    for (i, name) in ["A", "B", "nats"].iter().enumerate() {
        let (t0, s0) = cores(alone, i);
        let (t1, s1) = cores(remote, i);
        println!(
            "  CPU {name:>4}, cores (utime+stime | schedstat): no remote viewer {t0:.3} | {s0:.4}; {} remote viewers {t1:.3} | {s1:.4}",
            plan.viewers
        );
    }
}

fn print_hop_summary(runs: &[HopRun], plan: Plan) {
    let deltas = sorted(runs.iter().flat_map(|r| r.deltas.clone()).collect());
    let p50s = sorted(runs.iter().flat_map(|r| r.viewer_p50s.clone()).collect());
    let results: Vec<usize> = runs.iter().flat_map(|r| r.viewer_results.clone()).collect();
    let sum = |f: &dyn Fn(&HopRun) -> f64| runs.iter().map(f).sum::<f64>();
    let secs_alone = sum(&|r| r.cpu_alone.secs);
    let secs = sum(&|r| r.cpu_remote.secs);
    let local_results = sum(&|r| r.local_results as f64);
    let local_alone = sum(&|r| r.local_results_alone as f64);
    let delivered = results.iter().sum::<usize>() as f64;
    // CPU seconds of process `i` (A, B, nats) by schedstat and by ticks, without and with
    // the remote viewers.
    let cpu = |i: usize| {
        (
            sum(&|r| r.cpu_alone.sched[i]),
            sum(&|r| r.cpu_remote.sched[i]),
            sum(&|r| r.cpu_alone.ticks[i]),
            sum(&|r| r.cpu_remote.ticks[i]),
        )
    };
    let missed = runs.iter().map(|r| r.missed).sum::<usize>();
    println!(
        "\n-- hop summary ({} repetition(s) of {} s per phase, {} remote viewers; CPU from schedstat, utime+stime in brackets) --",
        runs.len(),
        plan.phase.as_secs_f64(),
        plan.viewers
    );
    println!("| figure | value |");
    println!("|---|---|");
    println!(
        "| results/s on the local viewer (no remote / {} remote) | {:.1} / {:.1} |",
        plan.viewers,
        local_alone / secs_alone,
        local_results / secs
    );
    println!(
        "| added latency, all remote viewers (n = {}) | p50 {:.2} ms, p95 {:.2} ms, max {:.2} ms |",
        deltas.len(),
        percentile(&deltas, 50.0),
        percentile(&deltas, 95.0),
        deltas.last().copied().unwrap_or(f64::NAN)
    );
    println!(
        "| per-viewer p50 spread (min .. max of {}) | {:.2} .. {:.2} ms |",
        p50s.len(),
        p50s.first().copied().unwrap_or(f64::NAN),
        p50s.last().copied().unwrap_or(f64::NAN)
    );
    println!(
        "| results per remote viewer per run | min {}, mean {:.1}, max {} (local {:.1}); missed {} of {} |",
        results.iter().copied().min().unwrap_or(0),
        delivered / results.len().max(1) as f64,
        results.iter().copied().max().unwrap_or(0),
        local_results / runs.len().max(1) as f64,
        missed,
        local_results as usize * plan.viewers
    );
    let (a0, a1, ta0, ta1) = cpu(0);
    println!(
        "| node A CPU, cores (no remote / {} remote) | {:.3} / {:.3} ({:.3} / {:.3}) |",
        plan.viewers,
        a0 / secs_alone,
        a1 / secs,
        ta0 / secs_alone,
        ta1 / secs
    );
    println!(
        "| node A CPU per result (no remote / {} remote) | {:.2} / {:.2} ms |",
        plan.viewers,
        a0 / local_alone.max(1.0) * 1e3,
        a1 / local_results.max(1.0) * 1e3
    );
    let (b0, b1, tb0, tb1) = cpu(1);
    println!(
        "| node B CPU, cores (no remote / {} remote) | {:.4} / {:.4} ({:.3} / {:.3}) |",
        plan.viewers,
        b0 / secs_alone,
        b1 / secs,
        tb0 / secs_alone,
        tb1 / secs
    );
    println!(
        "| node B CPU per result relayed (fanned out to {}), above its idle | {:.3} ms ({:.3} ms) |",
        plan.viewers,
        (b1 - b0 / secs_alone * secs) / local_results.max(1.0) * 1e3,
        (tb1 - tb0 / secs_alone * secs) / local_results.max(1.0) * 1e3
    );
    println!(
        "| node B CPU per result delivered (per viewer), above its idle | {:.1} µs ({:.1} µs) |",
        (b1 - b0 / secs_alone * secs) / delivered.max(1.0) * 1e6,
        (tb1 - tb0 / secs_alone * secs) / delivered.max(1.0) * 1e6
    );
    let (n0, n1, tn0, tn1) = cpu(2);
    println!(
        "| nats-server CPU, cores (no remote / {} remote) | {:.4} / {:.4} ({:.3} / {:.3}) |",
        plan.viewers,
        n0 / secs_alone,
        n1 / secs,
        tn0 / secs_alone,
        tn1 / secs
    );
}

// ---------------------------------------------------------------------------------------
// nats_rtt

/// A `Bytes` of `len` bytes (varied, so nothing compresses it on the way).
fn payload(len: usize) -> Bytes {
    Bytes::from(
        (0..len)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect::<Vec<u8>>(),
    )
}

async fn nats_rtt(plan: Plan) {
    println!("\n== nats_rtt: request/reply through nats-server (async-nats 0.38), requester and responder on their own connections ==");
    let nats = Nats::start();
    let responder = async_nats::connect(nats.url())
        .await
        .expect("connect (responder)");
    let requester = async_nats::connect(nats.url())
        .await
        .expect("connect (requester)");
    // `bench.echo` answers with the request; `bench.small` with 1 KB (a result for a frame).
    let small = payload(1000);
    let mut echo = responder.subscribe("bench.echo").await.unwrap();
    let mut reply_small = responder.subscribe("bench.small").await.unwrap();
    let answering = responder.clone();
    let serve = tokio::spawn(async move {
        loop {
            let (message, answer) = tokio::select! {
                Some(m) = echo.next() => { let p = m.payload.clone(); (m, p) }
                Some(m) = reply_small.next() => (m, small.clone()),
                else => return,
            };
            if let Some(reply) = message.reply {
                let _ = answering.publish(reply, answer).await;
            }
        }
    });
    responder.flush().await.unwrap();
    println!("| case | round trips | p50 | p95 | max | MB/s (both ways) |");
    println!("|---|---|---|---|---|---|");
    for (label, subject, out, back) in [
        ("1 KB echoed", "bench.echo", 1000, 1000),
        ("60 KB echoed", "bench.echo", 60_000, 60_000),
        ("60 KB out, 1 KB back", "bench.small", 60_000, 1000),
    ] {
        let request = payload(out);
        for _ in 0..plan.warm_up_trips {
            requester
                .request(subject, request.clone())
                .await
                .expect("a reply");
        }
        let mut times = Vec::with_capacity(plan.round_trips);
        let started = std::time::Instant::now();
        for _ in 0..plan.round_trips {
            let at = std::time::Instant::now();
            let reply = requester
                .request(subject, request.clone())
                .await
                .expect("a reply");
            times.push(at.elapsed().as_secs_f64() * 1e3);
            assert_eq!(reply.payload.len(), back);
        }
        let total = started.elapsed().as_secs_f64();
        let times = sorted(times);
        println!(
            "| {label} | {} | {:.3} ms | {:.3} ms | {:.3} ms | {:.1} |",
            plan.round_trips,
            percentile(&times, 50.0),
            percentile(&times, 95.0),
            times.last().copied().unwrap_or(f64::NAN),
            ((out + back) * plan.round_trips) as f64 / total / 1e6
        );
    }
    serve.abort();
    drop(nats);
}
