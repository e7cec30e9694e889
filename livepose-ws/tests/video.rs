//! H.264 frames on `/ws` (docs/protocol.md §3.2), against a real server with the real
//! models: frames of the dance clip encoded by OpenH264 get results with the dancer's pose;
//! malformed input gets its code and the stream survives it: a P-frame before any
//! keyframe (`keyframe_request` `start`), random bytes and a truncated keyframe (`bad_video`
//! then `keyframe_request` `decode_error`), an SPS over `max_pixels` (`image_too_large`),
//! a resolution change at a keyframe, an SPS declaring 16384x16384; decoder threads and
//! memory go with their streams. No timing thresholds: every wait is "eventually".

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use livepose_core::image::{Codec, RgbImage};
use livepose_core::video::{EncoderSettings, H264Encoder};
use livepose_core::wire::{FrameFlags, FrameHeader, ImageFormat, ResultView};
use livepose_test_support::{data, frames};
use livepose_ws::{Server, ServerConfig};
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const EVENTUALLY: Duration = Duration::from_secs(60);

/// One test at a time: `decoders_and_their_memory_go_with_their_streams` reads this
/// process's memory and threads.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn server(max_pixels: u64) -> Server {
    let config = ServerConfig::default()
        .addr("127.0.0.1:0".parse().unwrap())
        .workers(1)
        .demo(false)
        .models_dir(data::models())
        .max_pixels(max_pixels)
        .stats_interval(Duration::from_secs(3600));
    Server::start(config).await.unwrap()
}

async fn connect(server: &Server) -> Ws {
    let url = format!("ws://{}/ws", server.local_addr());
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    ws.send(Message::Text(r#"{"type":"hello","protocol":1}"#.into()))
        .await
        .unwrap();
    ws
}

/// Frames `first..first + count` of the dance clip, scaled to `width`x`height` (ffmpeg).
fn frames(first: usize, count: usize, width: u32, height: u32) -> Vec<RgbImage> {
    let filter = format!("select=gte(n\\,{first}),scale={width}:{height}");
    let clip = data::clip(frames::LAB);
    let rgb = frames::rgb_frames(&clip, Some(&filter), Some(count), width, height);
    assert_eq!(rgb.len(), count, "ffmpeg gave {count} frames");
    rgb.into_iter()
        .map(|rgb| RgbImage::from_rgb8(width, height, rgb).unwrap())
        .collect()
}

/// Access units of `images`, each with whether it is a keyframe (the first is).
fn encode(images: &[RgbImage]) -> Vec<(Vec<u8>, bool)> {
    let mut encoder = H264Encoder::new(EncoderSettings::default()).unwrap();
    images
        .iter()
        .enumerate()
        .map(|(i, image)| {
            let mut au = Vec::new();
            let key = encoder
                .encode(image.view(), 33 * i as u64, &mut au)
                .unwrap();
            (au, key)
        })
        .collect()
}

fn h264_frame(sequence: u64, access_unit: &[u8], keyframe: bool) -> Message {
    let mut header = FrameHeader::new(sequence, 0, ImageFormat::Encoded(Codec::H264));
    if keyframe {
        header.flags |= FrameFlags::KEYFRAME;
    }
    let mut bytes = Vec::new();
    header.encode_with_payload(access_unit, &mut bytes).unwrap();
    Message::Binary(bytes.into())
}

/// What the server sent until `done` says so (or [`EVENTUALLY`]): the control messages as
/// JSON, and the results' (sequence, pose count).
#[derive(Debug, Default)]
struct Seen {
    control: Vec<serde_json::Value>,
    results: Vec<(u64, usize)>,
}

async fn until(ws: &mut Ws, done: impl Fn(&Seen) -> bool) -> Seen {
    let mut seen = Seen::default();
    let deadline = tokio::time::Instant::now() + EVENTUALLY;
    while !done(&seen) {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => seen
                .control
                .push(serde_json::from_str(text.as_str()).unwrap()),
            Ok(Some(Ok(Message::Binary(bytes)))) => {
                let result = ResultView::parse(&bytes).unwrap();
                seen.results.push((result.sequence, result.pose_count()));
            }
            Ok(Some(Ok(_))) => {}
            _ => break,
        }
    }
    seen
}

fn has_type(seen: &Seen, kind: &str) -> bool {
    seen.control.iter().any(|m| m["type"] == kind)
}

fn keyframe_reasons(seen: &Seen) -> Vec<String> {
    seen.control
        .iter()
        .filter(|m| m["type"] == "keyframe_request")
        .map(|m| m["reason"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn error_codes(seen: &Seen) -> Vec<String> {
    seen.control
        .iter()
        .filter(|m| m["type"] == "error")
        .map(|m| m["code"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h264_frames_of_a_real_clip_get_the_dancers_pose() {
    let _serial = SERIAL.lock().await;
    let server = server(40_000_000).await;
    let mut ws = connect(&server).await;
    let welcome = until(&mut ws, |s| has_type(s, "welcome")).await;
    let formats = &welcome.control[0]["formats"];
    assert!(
        formats.as_array().unwrap().iter().any(|f| f == "h264"),
        "welcome lists h264: {formats}"
    );
    let units = encode(&frames(0, 12, 272, 480));
    assert!(units[0].1 && !units[1].1);
    for (i, (au, key)) in units.iter().enumerate() {
        ws.send(h264_frame(i as u64 + 1, au, *key)).await.unwrap();
    }
    let seen = until(&mut ws, |s| s.results.iter().any(|r| r.0 == 12)).await;
    println!("results (sequence, poses): {:?}", seen.results);
    assert!(
        seen.results.iter().any(|&(s, poses)| s == 12 && poses == 1),
        "the last frame's result has the dancer: {seen:?}"
    );
    assert!(error_codes(&seen).is_empty(), "{seen:?}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_h264_gets_its_code_and_the_stream_survives() {
    let _serial = SERIAL.lock().await;
    let server = server(40_000_000).await;
    let mut ws = connect(&server).await;
    let units = encode(&frames(0, 3, 272, 480));
    // A P-frame before any keyframe: a keyframe is asked for (`start`), no result.
    ws.send(h264_frame(1, &units[1].0, false)).await.unwrap();
    let seen = until(&mut ws, |s| has_type(s, "keyframe_request")).await;
    assert_eq!(keyframe_reasons(&seen), ["start"], "{seen:?}");
    // Random bytes: `bad_video`, then a keyframe request.
    let noise: Vec<u8> = (0..4000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    ws.send(h264_frame(2, &noise, false)).await.unwrap();
    let seen = until(&mut ws, |s| has_type(s, "keyframe_request")).await;
    assert!(
        error_codes(&seen).contains(&"bad_video".to_string()),
        "{seen:?}"
    );
    // A keyframe cut short: refused or undecodable, never a result.
    let keyframe = &units[0].0;
    ws.send(h264_frame(3, &keyframe[..keyframe.len() / 3], true))
        .await
        .unwrap();
    let seen = until(&mut ws, |s| has_type(s, "keyframe_request")).await;
    println!("truncated keyframe: {:?}", seen.control);
    assert!(
        error_codes(&seen).contains(&"bad_video".to_string()),
        "{seen:?}"
    );
    // The stream is alive: the whole clip decodes, with results.
    for (i, (au, key)) in units.iter().enumerate() {
        ws.send(h264_frame(10 + i as u64, au, *key)).await.unwrap();
    }
    let seen = until(&mut ws, |s| s.results.iter().any(|r| r.0 == 12)).await;
    assert!(seen.results.iter().any(|r| r.0 == 12), "{seen:?}");
    // A new size at a keyframe: decoded at its size.
    let bigger = encode(&frames(3, 2, 360, 640));
    for (i, (au, key)) in bigger.iter().enumerate() {
        ws.send(h264_frame(20 + i as u64, au, *key)).await.unwrap();
    }
    let seen = until(&mut ws, |s| s.results.iter().any(|r| r.0 == 21)).await;
    assert!(
        seen.results.iter().any(|&(s, poses)| s == 21 && poses == 1),
        "after a resolution change: {seen:?}"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sps_over_max_pixels_is_refused_before_decoding() {
    let _serial = SERIAL.lock().await;
    // 272x480 is 130,560 pixels.
    let server = server(100_000).await;
    let mut ws = connect(&server).await;
    let units = encode(&frames(0, 1, 272, 480));
    ws.send(h264_frame(1, &units[0].0, true)).await.unwrap();
    let seen = until(&mut ws, |s| has_type(s, "keyframe_request")).await;
    assert_eq!(error_codes(&seen), ["image_too_large"], "{seen:?}");
    assert!(seen.results.is_empty());
    server.shutdown().await;
}

/// An SPS that declares 16384x16384 (constrained baseline, level 5.1; written bit by bit for
/// this test): refused as `image_too_large` under the default `max_pixels` (40 million)
/// before any decoder allocates for it, and the same stream then decodes a real keyframe.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sps_declaring_16384x16384_is_refused_and_the_stream_goes_on() {
    let _serial = SERIAL.lock().await;
    const SPS: [u8; 11] = [
        0x67, 0x42, 0xc0, 0x33, 0xda, 0x00, 0x10, 0x00, 0x00, 0x80, 0x19,
    ];
    let sps = livepose_core::video::Sps::parse(&SPS).unwrap();
    assert_eq!((sps.width, sps.height), (16384, 16384));
    let mut huge = Vec::new();
    // The SPS, a PPS and the start of an IDR slice.
    livepose_core::video::write_annexb(
        [
            &SPS[..],
            &[0x68, 0xce, 0x3c, 0x80],
            &[0x65, 0x88, 0x84, 0x00, 0x21],
        ],
        &mut huge,
    );
    let server = server(40_000_000).await;
    let mut ws = connect(&server).await;
    ws.send(h264_frame(1, &huge, true)).await.unwrap();
    let seen = until(&mut ws, |s| has_type(s, "keyframe_request")).await;
    assert_eq!(error_codes(&seen), ["image_too_large"], "{seen:?}");
    let units = encode(&frames(0, 1, 272, 480));
    ws.send(h264_frame(2, &units[0].0, true)).await.unwrap();
    let seen = until(&mut ws, |s| s.results.iter().any(|r| r.0 == 2)).await;
    assert!(
        seen.results.iter().any(|&(s, poses)| s == 2 && poses == 1),
        "{seen:?}"
    );
    server.shutdown().await;
}

/// This process's resident memory (MB) and its threads named `h264-…` (the streams'
/// decoders).
fn rss_and_decoders() -> (f64, usize) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let rss_kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap();
    let decoders = std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| name.starts_with("h264-"))
        .count();
    (rss_kb / 1024.0, decoders)
}

/// Streams that send a real 640x480 clip and malformed units (random bytes, a truncated
/// keyframe, a delta frame cut short), then close or are dropped without a close: each
/// decoder thread ends with its stream, and the server's memory comes back: after a warm-up
/// round, 24 more streams leave less than 1 MB each (a decoder's reference pictures alone are
/// several 640x480 pictures of 0.46 MB; measured here: 24 streams -41 MB, 72 streams -4 MB).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decoders_and_their_memory_go_with_their_streams() {
    let _serial = SERIAL.lock().await;
    let server = server(40_000_000).await;
    let units = encode(&frames(0, 6, 640, 480));
    let noise: Vec<u8> = (0..20_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect();
    let round = |streams: usize| {
        let (server, units, noise) = (&server, &units, &noise);
        async move {
            for n in 0..streams {
                let mut ws = connect(server).await;
                let mut sequence = 0;
                let mut send = |au: &[u8], key: bool| {
                    sequence += 1;
                    h264_frame(sequence, au, key)
                };
                let mut messages = Vec::new();
                for (au, key) in units.iter() {
                    messages.push(send(au, *key));
                }
                messages.push(send(noise, false));
                messages.push(send(&units[0].0[..units[0].0.len() / 2], true));
                messages.push(send(&units[1].0[..units[1].0.len() / 2], false));
                for (au, key) in units.iter() {
                    messages.push(send(au, *key));
                }
                let last = sequence;
                for message in messages {
                    ws.send(message).await.unwrap();
                }
                let seen = until(&mut ws, |s| s.results.iter().any(|r| r.0 == last)).await;
                assert!(
                    error_codes(&seen).contains(&"bad_video".to_string()),
                    "{seen:?}"
                );
                if n % 2 == 0 {
                    let _ = ws.close(None).await;
                }
            }
        }
    };
    let settled = || async {
        for _ in 0..600 {
            let (rss, decoders) = rss_and_decoders();
            if decoders == 0 {
                return rss;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("decoder threads left: {:?}", rss_and_decoders());
    };
    round(4).await;
    let before = settled().await;
    let streams = 24;
    round(streams).await;
    let after = settled().await;
    println!("resident memory: {before:.1} MB after the warm-up, {after:.1} MB after {streams} more streams");
    assert!(
        after - before < streams as f64,
        "memory grew by {:.1} MB over {streams} streams",
        after - before
    );
    server.shutdown().await;
}

/// A room viewer that shows the camera's frames (`?frames=1`) needs a keyframe to start
/// decoding them: its join asks an H.264 camera for one (`keyframe_request`, `join`); a
/// viewer of results alone, or one more within a second, asks nothing more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frame_viewer_joining_asks_the_h264_camera_for_a_keyframe() {
    let _serial = SERIAL.lock().await;
    let config = ServerConfig::default()
        .addr("127.0.0.1:0".parse().unwrap())
        .workers(1)
        .demo(false)
        .models_dir(data::models())
        .rooms("cam", None)
        .stats_interval(Duration::from_secs(3600));
    let server = Server::start(config).await.unwrap();
    let base = format!("ws://{}/ws/rooms/hall", server.local_addr());
    let (mut camera, _) = tokio_tungstenite::connect_async(format!("{base}/camera?token=cam"))
        .await
        .unwrap();
    let units = encode(&frames(0, 3, 272, 480));
    for (i, (au, key)) in units.iter().enumerate() {
        camera
            .send(h264_frame(i as u64 + 1, au, *key))
            .await
            .unwrap();
    }
    until(&mut camera, |s| s.results.iter().any(|r| r.0 == 3)).await;
    // A viewer of results alone: no request.
    let (_results_viewer, _) = tokio_tungstenite::connect_async(format!("{base}/view"))
        .await
        .unwrap();
    // A viewer of frames: a request, `join`, no sequence.
    let (_frames_viewer, _) = tokio_tungstenite::connect_async(format!("{base}/view?frames=1"))
        .await
        .unwrap();
    let seen = until(&mut camera, |s| has_type(s, "keyframe_request")).await;
    let requests: Vec<_> = seen
        .control
        .iter()
        .filter(|m| m["type"] == "keyframe_request")
        .collect();
    assert_eq!(requests.len(), 1, "{seen:?}");
    assert_eq!(requests[0]["reason"], "join");
    assert!(requests[0].get("sequence").is_none_or(|s| s.is_null()));
    // Another frame viewer at once shares that request; the camera's keyframe answers both.
    let (_second, _) = tokio_tungstenite::connect_async(format!("{base}/view?frames=1"))
        .await
        .unwrap();
    camera.send(h264_frame(4, &units[0].0, true)).await.unwrap();
    let seen = until(&mut camera, |s| s.results.iter().any(|r| r.0 == 4)).await;
    assert!(keyframe_reasons(&seen).is_empty(), "{seen:?}");
    server.shutdown().await;
}
