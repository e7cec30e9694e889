//! Throughput and memory scenarios: `soak`, `storm` and `capacity`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::client::{self, Cut, Frames, Percentiles, StormOutcome};
use crate::server::{self, ServerProcess};
use crate::{cores, join, ms, slope, streams_at_once, verdict, CpuMark};

pub async fn soak(frames: Frames, streams: usize, fps: f64, seconds: f64) {
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
    // Four streams first, so that every worker has been busy at once and the model sets
    // the workers need (loaded when all are in use) are in `warm`.
    join(streams_at_once(&server, &frames, 4, fps, 2.0, None).await).await;
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
        "RSS: idle {idle:.1} MB, after 4 streams for 2 s (model sets loaded) {warm:.1} MB; under load at 1 s {:.1} MB, at end {:.1} MB, max {:.1} MB; slope over the second half {per_minute:+.3} MB/min ({} samples)",
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
    let tenths: Vec<String> = (1..=10)
        .filter_map(|i| rss.get((rss.len() * i / 10).max(1) - 1))
        .map(|(t, mb)| format!("{t:.0} s {mb:.1}"))
        .collect();
    println!("  RSS (MB) every tenth of the run: {}", tenths.join(", "));
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

pub async fn storm(frames: Frames, disconnects: usize, wave: usize, rounds: usize) {
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
    // Warm-up: four streams, so that every worker has been busy at once and the model sets
    // they need are loaded before memory is read.
    let warm = join(streams_at_once(&server, &frames, 4, 30.0, 3.0, None).await).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = server.rss_mb();
    println!(
        "warm-up, 4 streams: {} results; streams listed before the storm: {:?}; RSS {before:.1} MB",
        warm.iter().map(|w| w.samples.len()).sum::<usize>(),
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
            "  RSS: before the storm {before:.1} MB, right after {right_after:.1} MB, 1 s after {after:.1} MB ({change:+.1}%; target: back within 5% of before, or below it: {})",
            verdict(change <= 5.0)
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

/// CPU time per frame (ms) of the lite pipeline in live mode, one thread, in this process.
pub fn offline_cpu_per_frame(frames: &Frames, seconds: f64) -> (f64, f64) {
    use livepose::core::inference::{Frame, Pipeline};
    use livepose::core::wire::control::{ModelKind, RunMode};
    use livepose::core::Timestamp;
    let mut pipeline = Pipeline::builder()
        .model(ModelKind::Lite)
        .mode(RunMode::Live)
        .models_dir(livepose_test_support::data::models())
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

pub async fn capacity(frames: Frames, offline: (f64, f64), streams: usize, fps: f64, seconds: f64) {
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
