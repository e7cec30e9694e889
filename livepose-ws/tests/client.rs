//! The Rust client against the real server: hello and welcome, results for its frames,
//! reconnection when the server goes away and comes back on the same port, and adaptive
//! quality behind a frame-rate cap and after it is lifted (real frames, real inference).

use std::net::SocketAddr;
use std::time::Duration;

use livepose_client::{AdaptConfig, Client, ClientConfig, Event};
use livepose_core::image::{DecoderConfig, ImageDecoder, RgbImage};
use livepose_core::wire::control::ServerMessage;
use livepose_test_support::data::models;
use livepose_test_support::frames::{jpeg_frame, LAB};
use livepose_ws::{Server, ServerConfig};

fn jpeg() -> Vec<u8> {
    jpeg_frame(LAB, 35, 540, 960)
}

async fn server(addr: SocketAddr) -> Server {
    let config = ServerConfig::default()
        .addr(addr)
        .workers(1)
        .models_dir(models())
        .stats_interval(Duration::from_secs(3600));
    Server::start(config).await.unwrap()
}

/// The next event that `keep` accepts, within 20 s.
async fn wait_for(client: &mut Client, keep: impl Fn(&Event) -> bool) -> Event {
    loop {
        let event = tokio::time::timeout(Duration::from_secs(20), client.next_event())
            .await
            .expect("an event within 20 s")
            .expect("client open");
        if keep(&event) {
            return event;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_flow_and_the_client_reconnects() {
    let first = server("127.0.0.1:0".parse().unwrap()).await;
    let addr = first.local_addr();
    let mut client = Client::start(ClientConfig::new(format!("ws://{addr}/ws")));
    wait_for(&mut client, |e| matches!(e, Event::Connected)).await;
    wait_for(&mut client, |e| {
        matches!(e, Event::Control(ServerMessage::Welcome(_)))
    })
    .await;
    let image = jpeg();
    let sequence = client.send_jpeg(image.clone(), 42);
    let Event::Result(result) = wait_for(&mut client, |e| matches!(e, Event::Result(_))).await
    else {
        unreachable!()
    };
    assert_eq!((result.sequence, result.capture_ts_us), (sequence, 42));
    assert_eq!(result.poses.len(), 1);

    // The server goes away; the client notices and keeps trying.
    first.shutdown().await;
    wait_for(&mut client, |e| matches!(e, Event::Disconnected(_))).await;
    // A frame sent meanwhile waits (latest wins) for the next connection.
    let sequence = client.send_jpeg(image, 43);
    let second = server(addr).await;
    wait_for(&mut client, |e| matches!(e, Event::Connected)).await;
    let Event::Result(result) = wait_for(&mut client, |e| matches!(e, Event::Result(_))).await
    else {
        unreachable!()
    };
    assert_eq!(result.sequence, sequence);
    second.shutdown().await;
}

/// Frames of the dance clip as 360x640 RGB images (a phone camera's size), for `send_rgb`.
fn dance_rgb(count: usize) -> Vec<RgbImage> {
    let mut decoder = ImageDecoder::new(DecoderConfig::default());
    (0..count)
        .map(|i| {
            let mut image = RgbImage::new();
            decoder
                .decode(&jpeg_frame(LAB, i * 8, 540, 960), &mut image)
                .unwrap();
            shrink(&image, 360, 640)
        })
        .collect()
}

/// `image` resized to `width` x `height` (nearest neighbour).
fn shrink(image: &RgbImage, width: u32, height: u32) -> RgbImage {
    let (w, h, data) = (image.width(), image.height(), image.data());
    let mut out = Vec::with_capacity((width * height * 3) as usize);
    for y in 0..height {
        let sy = (y * h / height) as usize;
        for x in 0..width {
            let at = (sy * w as usize + (x * w / width) as usize) * 3;
            out.extend_from_slice(&data[at..at + 3]);
        }
    }
    RgbImage::from_rgb8(width, height, out).unwrap()
}

/// What the adapting client did over `window`: frames sent and results a second, the
/// median round trip, quality and target rate at the end, and the changes seen.
#[derive(Debug)]
#[allow(dead_code)] // some fields are only printed
struct Figures {
    sent_fps: f64,
    result_fps: f64,
    latency_ms: Option<u128>,
    quality: f32,
    target_fps: f64,
    /// The highest target rate in the window.
    max_target_fps: f64,
    adaptations: usize,
    rate_limited: usize,
}

/// Sends `frames` in a loop at 30 fps (the client keeps the latest) for `settle`, then
/// measures over `window`.
async fn drive(
    client: &mut Client,
    frames: &[RgbImage],
    settle: Duration,
    window: Duration,
) -> Figures {
    let mut ticks = tokio::time::interval(Duration::from_millis(33));
    let start = tokio::time::Instant::now();
    let mut i = 0;
    let mut measuring: Option<(tokio::time::Instant, u64)> = None;
    let (mut results, mut adaptations, mut rate_limited) = (0usize, 0usize, 0usize);
    let mut max_target_fps: f64 = 0.0;
    loop {
        if measuring.is_none() && start.elapsed() >= settle {
            measuring = Some((tokio::time::Instant::now(), client.frames_sent()));
            (results, adaptations, rate_limited) = (0, 0, 0);
            max_target_fps = client.target_fps().unwrap();
        }
        if let Some((since, sent)) = measuring {
            if since.elapsed() >= window {
                let seconds = since.elapsed().as_secs_f64();
                return Figures {
                    sent_fps: (client.frames_sent() - sent) as f64 / seconds,
                    result_fps: results as f64 / seconds,
                    latency_ms: client.latency().map(|l| l.as_millis()),
                    quality: client.quality(),
                    target_fps: client.target_fps().unwrap(),
                    max_target_fps,
                    adaptations,
                    rate_limited,
                };
            }
        }
        tokio::select! {
            _ = ticks.tick() => {
                client.send_rgb(frames[i % frames.len()].view(), i as i64).unwrap();
                i += 1;
            }
            event = client.next_event() => match event.expect("client open") {
                Event::Result(_) => results += 1,
                Event::Adapted(change) => {
                    adaptations += 1;
                    if measuring.is_some() {
                        max_target_fps = max_target_fps.max(change.target_fps);
                    }
                }
                Event::Control(ServerMessage::Error(e)) if e.code == "rate_limited" => rate_limited += 1,
                _ => {}
            },
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_adapting_client_settles_behind_a_10_fps_cap_and_climbs_back_when_it_is_lifted() {
    let frames = dance_rgb(8);
    let budget = Duration::from_millis(250);
    let capped = Server::start(
        ServerConfig::default()
            .addr("127.0.0.1:0".parse().unwrap())
            .workers(1)
            .models_dir(models())
            .max_fps(10),
    )
    .await
    .unwrap();
    let addr = capped.local_addr();
    let config =
        ClientConfig::new(format!("ws://{addr}/ws")).adapt(AdaptConfig::default().budget(budget));
    let mut client = Client::start(config);
    assert_eq!(client.quality(), 0.9, "starts at the best quality");
    let settle = Duration::from_secs(10);
    let window = Duration::from_secs(5);
    let behind = drive(&mut client, &frames, settle, window).await;
    println!("behind a 10 fps cap: {behind:?}");
    assert!(behind.sent_fps <= 12.0, "{behind:?}");
    assert!(behind.result_fps >= 2.0, "{behind:?}");
    assert!(
        behind
            .latency_ms
            .is_some_and(|l| l <= budget.as_millis() * 3 / 2),
        "{behind:?}"
    );
    assert!((0.5..=0.9).contains(&behind.quality), "{behind:?}");

    // The cap is lifted: the same port, a server without it (and with its rate hints); the
    // client reconnects and probes its way back up (it keeps what it learnt). Above 10 fps
    // as far as the server keeps up: on a loaded machine, real inference in a debug build
    // may process about 10 frames a second and no more, and the hints then hold the send
    // rate there; the controller's target still climbs past the old cap.
    capped.shutdown().await;
    let _lifted = Server::start(
        ServerConfig::default()
            .addr(addr)
            .workers(1)
            .models_dir(models()),
    )
    .await
    .unwrap();
    let lifted = drive(&mut client, &frames, settle, window).await;
    println!("cap lifted: {lifted:?}");
    assert_eq!(lifted.rate_limited, 0, "{lifted:?}");
    assert!(lifted.max_target_fps > 10.0, "{lifted:?}");
    assert!(
        lifted.sent_fps > 10.0 || lifted.result_fps < 12.0,
        "the server processes {} fps but the client sends {}: {lifted:?}",
        lifted.result_fps,
        lifted.sent_fps
    );
    assert!(
        lifted
            .latency_ms
            .is_some_and(|l| l <= budget.as_millis() * 3 / 2),
        "{lifted:?}"
    );
}
