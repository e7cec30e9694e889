//! Latency scenarios: `paced` (and `smoke`), and `never-read`.

use std::time::Duration;

use tokio::time::Instant;

use crate::client::{self, Frames, Percentiles};
use crate::server::ServerProcess;
use crate::{join, ms, streams_at_once, verdict, WARM_UP};

pub async fn paced(frames: Frames, ks: &[usize], fps: f64, seconds: f64, repetitions: usize) {
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

pub async fn never_read(frames: Frames, baseline: f64, seconds: f64) {
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
