//! What H.264 costs the server (issue 24): `codecs`, the server's CPU time per result for
//! a browser-like stream sent as JPEG and as H.264, in one run; `rtsp`, an RTSP camera's
//! H.264 passed through to the server's decoder against re-encoded to JPEG by ffmpeg, CPU
//! per camera (the server and its ffmpeg together).

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use livepose::core::image::{encode_jpeg, Codec, RgbImage};
use livepose::core::video::{EncoderSettings, H264Encoder};
use livepose::core::wire::ResultView;
use livepose_test_support::rtsp::RtspRelay;
use livepose_test_support::{data, frames};
use tokio_tungstenite::tungstenite::Message;

use crate::client::{paced_as, Frames, Percentiles};
use crate::server::{cpu_secs_of, ServerProcess};
use crate::{cores, verdict};
use livepose_test_support::process::loadavg;

/// Frames of the browser-like stream: the uplink's camera, 640x480, 3 s at 30 fps.
const CAMERA_FRAMES: usize = 90;

/// JPEG at quality 80 (a browser's `toBlob('image/jpeg', 0.8)`) and H.264 at 1 Mbit/s
/// (one keyframe, then delta frames: looped, a keyframe every 3 s, as `PoseStream` sends)
/// of the same frames.
fn camera_streams() -> (Frames, Frames) {
    let rgb: Vec<RgbImage> = frames::camera_480p(CAMERA_FRAMES)
        .into_iter()
        .map(|data| RgbImage::from_rgb8(640, 480, data).expect("640x480 RGB"))
        .collect();
    let jpegs = rgb
        .iter()
        .map(|image| {
            let mut out = Vec::new();
            encode_jpeg(image.view(), 80, &mut out).expect("a JPEG");
            out
        })
        .collect();
    let mut encoder = H264Encoder::new(EncoderSettings {
        bitrate_bps: 1_000_000,
        max_fps: 30.0,
        keyframe_interval: 0,
    })
    .expect("an H.264 encoder");
    let units = rgb
        .iter()
        .enumerate()
        .map(|(i, image)| {
            let mut au = Vec::new();
            encoder
                .encode(image.view(), i as u64 * 33, &mut au)
                .expect("an access unit");
            au
        })
        .collect();
    (Arc::new(jpegs), Arc::new(units))
}

fn mean_kb(frames: &Frames) -> f64 {
    frames.iter().map(Vec::len).sum::<usize>() as f64 / frames.len() as f64 / 1e3
}

/// One server; per repetition one fresh connection per codec (the order alternating),
/// each sending 640x480 at 30 fps for `seconds`: the server's CPU time per result.
pub async fn codecs(seconds: f64, repetitions: usize) {
    let (jpegs, units) = camera_streams();
    println!("== codecs: the server's CPU per result, one stream of 640x480 at 30 fps, JPEG against H.264");
    println!(
        "frames: the uplink camera (lab dancer, 640x480), {CAMERA_FRAMES} looped; JPEG q80 {:.1} KB/frame ({:.1} Mbit/s at 30 fps), H.264 1 Mbit/s {:.1} KB/frame ({:.2} Mbit/s); {} cores, load {}",
        mean_kb(&jpegs),
        mean_kb(&jpegs) * 8.0 * 30.0 / 1e3,
        mean_kb(&units),
        mean_kb(&units) * 8.0 * 30.0 / 1e3,
        cores(),
        loadavg()
    );
    let server = ServerProcess::start("server_load-codecs.log", &[]);
    server.wait_healthy().await;
    println!("| run | codec | sent | results | results/s | server CPU s | CPU ms/result | latency p50 ms | p95 ms |");
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    let mut totals = [(0.0, 0usize); 2];
    for rep in 0..repetitions {
        let mut order = [(0, Codec::Jpeg, &jpegs), (1, Codec::H264, &units)];
        if rep % 2 == 1 {
            order.reverse();
        }
        for (slot, codec, frames) in order {
            let cpu = server.cpu_secs();
            let run = paced_as(
                server.addr,
                frames.clone(),
                codec,
                0,
                30.0,
                Duration::from_secs_f64(seconds),
                None,
            )
            .await;
            let cpu = server.cpu_secs() - cpu;
            let results = run.samples.len();
            let latency = Percentiles::of(run.samples.iter().map(|s| s.latency_us).collect());
            if let Some(e) = &run.error {
                println!("run {rep} {codec:?}: {e}");
            }
            println!(
                "| {rep} | {} | {} | {results} | {:.1} | {cpu:.2} | {:.1} | {:.1} | {:.1} |",
                codec_name(codec),
                run.sent,
                results as f64 / seconds,
                cpu * 1e3 / results.max(1) as f64,
                latency.p50 as f64 / 1e3,
                latency.p95 as f64 / 1e3,
            );
            totals[slot].0 += cpu;
            totals[slot].1 += results;
        }
    }
    let per_result = |(cpu, n): (f64, usize)| cpu * 1e3 / n.max(1) as f64;
    let (jpeg, h264) = (per_result(totals[0]), per_result(totals[1]));
    println!(
        "CPU per result over all runs: JPEG {jpeg:.1} ms, H.264 {h264:.1} ms: H.264 / JPEG = {:.2}x (goal <= 1.2x: {})",
        h264 / jpeg,
        verdict(h264 / jpeg <= 1.2)
    );
    server.report_log();
}

fn codec_name(codec: Codec) -> &'static str {
    match codec {
        Codec::H264 => "H.264",
        _ => "JPEG",
    }
}

/// The RTSP camera's clip: the uplink camera (lab dancer, 640x480), 30 fps, H.264 as IP
/// cameras send it (high profile, no B-frames, a keyframe every 2 s, 2 Mbit/s), made once
/// by ffmpeg under the target folder.
fn camera_clip() -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("rtsp-camera-640x480.mkv");
    if path.exists() {
        return path;
    }
    let tmp = path.with_extension("tmp.mkv");
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(data::clip(frames::LAB))
        .args([
            "-t",
            "20",
            "-vf",
            "crop=1080:810:0:360,scale=640:480,fps=30",
        ])
        .args([
            "-an",
            "-c:v",
            "libx264",
            "-preset",
            "medium",
            "-profile:v",
            "high",
        ])
        .args(["-pix_fmt", "yuv420p", "-g", "60", "-bf", "0", "-b:v", "2M"])
        .arg(&tmp)
        .status()
        .expect("ffmpeg");
    assert!(status.success(), "ffmpeg could not make the camera clip");
    std::fs::rename(&tmp, &path).expect("rename the camera clip");
    path
}

/// The `ffmpeg` processes whose parent is `pid`.
fn ffmpeg_children(pid: u32) -> Vec<String> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|p| p.bytes().all(|b| b.is_ascii_digit()))
        .filter(|p| {
            let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).unwrap_or_default();
            let Some((name, rest)) = stat.split_once(") ") else {
                return false;
            };
            let ppid = rest.split_whitespace().nth(1).unwrap_or("");
            name.ends_with("(ffmpeg") && ppid == pid.to_string()
        })
        .collect()
}

/// Results a viewer of `room` receives in `window`.
async fn count_results(addr: std::net::SocketAddr, room: &str, window: Duration) -> usize {
    let url = format!("ws://{addr}/ws/rooms/{room}/view");
    let Ok((mut socket, _)) = tokio_tungstenite::connect_async(url).await else {
        return 0;
    };
    let deadline = tokio::time::Instant::now() + window;
    let mut results = 0;
    while let Ok(Some(Ok(message))) = tokio::time::timeout_at(deadline, socket.next()).await {
        if let Message::Binary(bytes) = message {
            results += usize::from(ResultView::parse(&bytes).is_ok());
        }
    }
    results
}

/// Per repetition, a fresh server per mode (the order alternating) with the RTSP camera as
/// its room's source: `warmup` seconds, then `seconds` measured: the CPU time of the
/// server and of its ffmpeg, and the results a viewer gets.
pub async fn rtsp(seconds: f64, warmup: f64, repetitions: usize) {
    let clip = camera_clip();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("rtsp-bench");
    std::fs::create_dir_all(&dir).expect("a folder for the SDP");
    let relay = RtspRelay::start(&clip, &dir, &["-c:v", "copy"]).await;
    println!("== rtsp: one RTSP camera (640x480, 30 fps, H.264 high profile, 2 Mbit/s, a keyframe every 2 s) as a room's source: passthrough (ffmpeg copies, the server decodes) against re-encode (ffmpeg decodes and encodes JPEG, the server decodes the JPEG)");
    println!(
        "camera: {} served at {}; {} cores, load {}",
        clip.display(),
        relay.url,
        cores(),
        loadavg()
    );
    println!("| run | mode | results/s | server CPU (cores) | ffmpeg CPU (cores) | total (cores) | CPU ms/result |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    let mut totals = [(0.0, 0.0, 0usize); 2];
    for rep in 0..repetitions {
        let mut order = [(0, "passthrough"), (1, "re-encode")];
        if rep % 2 == 1 {
            order.reverse();
        }
        for (slot, mode) in order {
            let source = format!("cam={}", relay.url);
            let mut args = vec!["--room-token", "t", "--source", &source];
            if slot == 1 {
                args.push("--source-reencode");
            }
            let server = ServerProcess::start(&format!("server_load-rtsp-{slot}.log"), &args);
            server.wait_healthy().await;
            tokio::time::sleep(Duration::from_secs_f64(warmup)).await;
            let children = ffmpeg_children(server.pid());
            let cpu = |children: &[String]| {
                let ffmpeg: f64 = children.iter().map(|p| cpu_secs_of(p)).sum();
                (server.cpu_secs(), ffmpeg)
            };
            let (server0, ffmpeg0) = cpu(&children);
            let results = count_results(server.addr, "cam", Duration::from_secs_f64(seconds)).await;
            let (server1, ffmpeg1) = cpu(&children);
            let (s, f) = ((server1 - server0) / seconds, (ffmpeg1 - ffmpeg0) / seconds);
            if children.len() != 1 {
                println!("run {rep} {mode}: {} ffmpeg processes", children.len());
            }
            println!(
                "| {rep} | {mode} | {:.1} | {s:.3} | {f:.3} | {:.3} | {:.1} |",
                results as f64 / seconds,
                s + f,
                (s + f) * seconds * 1e3 / results.max(1) as f64
            );
            totals[slot].0 += s;
            totals[slot].1 += f;
            totals[slot].2 += results;
            server.report_log();
        }
    }
    let n = repetitions.max(1) as f64;
    let [(ps, pf, pr), (rs, rf, rr)] = totals;
    println!(
        "mean CPU per camera: passthrough {:.3} cores (server {:.3} + ffmpeg {:.3}), {:.1} results/s; re-encode {:.3} cores (server {:.3} + ffmpeg {:.3}), {:.1} results/s; saved {:.3} cores per camera ({:.0}%)",
        (ps + pf) / n,
        ps / n,
        pf / n,
        pr as f64 / seconds / n,
        (rs + rf) / n,
        rs / n,
        rf / n,
        rr as f64 / seconds / n,
        ((rs + rf) - (ps + pf)) / n,
        100.0 * (1.0 - (ps + pf) / (rs + rf)),
    );
    drop(relay);
}
