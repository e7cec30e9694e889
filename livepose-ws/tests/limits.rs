//! Limits, heartbeat, metrics and the one-shot HTTP endpoint, on a real socket with the real
//! models: a token is required when configured, connections per IP are capped, a client
//! that answers no pings is dropped, frames over the rate cap are refused with an error,
//! `/metrics` counts what happened, `POST /estimate_pose` answers one image.

mod support;

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use livepose_core::image::Codec;
use livepose_core::wire::{FrameHeader, ImageFormat};
use livepose_test_support::data::models;
use livepose_test_support::frames::{jpeg_frame, LAB};
use livepose_ws::{Server, ServerConfig};
use support::http::http;
use tokio_tungstenite::tungstenite::{self, Message};

fn jpeg() -> Vec<u8> {
    jpeg_frame(LAB, 20, 540, 960)
}

fn config() -> ServerConfig {
    ServerConfig::default()
        .addr("127.0.0.1:0".parse().unwrap())
        .workers(1)
        .models_dir(models())
}

fn frame(sequence: u64, jpeg: &[u8]) -> Message {
    let header = FrameHeader::new(sequence, 0, ImageFormat::Encoded(Codec::Jpeg));
    let mut bytes = Vec::new();
    header.encode_with_payload(jpeg, &mut bytes).unwrap();
    Message::Binary(bytes.into())
}

/// Whether a binary result comes before the socket ends (`stats` messages may come first
/// on a slow machine).
async fn next_result<S>(socket: &mut S) -> bool
where
    S: StreamExt<Item = Result<Message, tungstenite::Error>> + Unpin,
{
    while let Some(Ok(message)) = socket.next().await {
        match message {
            Message::Binary(_) => return true,
            Message::Text(_) | Message::Ping(_) => {}
            _ => return false,
        }
    }
    false
}

fn refused_status(error: tungstenite::Error) -> u16 {
    match error {
        tungstenite::Error::Http(response) => response.status().as_u16(),
        other => panic!("expected an HTTP refusal, got {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_token_is_required() {
    let server = Server::start(config().token("s3cret")).await.unwrap();
    let url = format!("ws://{}/ws", server.local_addr());
    let refused = tokio_tungstenite::connect_async(&url).await.unwrap_err();
    assert_eq!(refused_status(refused), 401);
    let wrong = tokio_tungstenite::connect_async(format!("{url}?token=nope"))
        .await
        .unwrap_err();
    assert_eq!(refused_status(wrong), 401);
    let (mut socket, _) = tokio_tungstenite::connect_async(format!("{url}?token=s3cret"))
        .await
        .unwrap();
    socket.send(frame(1, &jpeg())).await.unwrap();
    assert!(next_result(&mut socket).await);
    let (status, _, _) = http(&server, "POST", "/estimate_pose", &jpeg()).await;
    assert_eq!(status, 401, "the HTTP endpoint needs it too");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_per_ip_are_capped_and_counted_in_metrics() {
    let server = Server::start(config().max_connections(8, 1)).await.unwrap();
    let url = format!("ws://{}/ws", server.local_addr());
    let (mut first, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    let refused = tokio_tungstenite::connect_async(&url).await.unwrap_err();
    assert_eq!(refused_status(refused), 429);
    first.send(frame(1, &jpeg())).await.unwrap();
    assert!(next_result(&mut first).await);
    let (status, _, metrics) = http(&server, "GET", "/metrics", b"").await;
    assert_eq!(status, 200);
    for line in [
        "livepose_connections 1",
        "livepose_connections_total 1",
        "livepose_rejected_connections_total 1",
        "livepose_results_total 1",
        "livepose_inferences_total 1",
        "livepose_latency_seconds_count 1",
        "livepose_stage_seconds_total{stage=\"landmarks\"}",
        "livepose_process_resident_bytes ",
    ] {
        assert!(metrics.contains(line), "{line} missing from:\n{metrics}");
    }
    // Closing frees the slot for the same IP.
    first.close(None).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (again, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    drop(again);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_answers_no_pings_is_dropped() {
    let server = Server::start(config().heartbeat(Duration::from_millis(100)))
        .await
        .unwrap();
    let url = format!("ws://{}/ws", server.local_addr());
    // A reading client answers pings (tungstenite replies while it reads) and stays.
    let (mut alive, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    // A silent one never reads, so never answers.
    let (_silent, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    let reader = tokio::spawn(async move {
        let deadline = tokio::time::Instant::now() + Duration::from_millis(1500);
        let mut pings = 0;
        loop {
            match tokio::time::timeout_at(deadline, alive.next()).await {
                Err(_) => return (pings, true),
                Ok(Some(Ok(Message::Ping(_)))) => pings += 1,
                Ok(Some(Ok(_))) => {}
                Ok(_) => return (pings, false),
            }
        }
    });
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(server.stream_count(), 1, "the silent client was dropped");
    let (pings, still_open) = reader.await.unwrap();
    assert!(still_open, "the answering client was kept");
    assert!(pings >= 10, "pinged every 100 ms: {pings}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frames_over_the_rate_cap_get_an_error() {
    let server = Server::start(config().max_fps(2)).await.unwrap();
    let url = format!("ws://{}/ws", server.local_addr());
    let (mut socket, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    let image = jpeg();
    for i in 0..5 {
        socket.send(frame(i, &image)).await.unwrap();
    }
    let mut rate_limited = false;
    for _ in 0..4 {
        match tokio::time::timeout(Duration::from_secs(10), socket.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => {
                let v: serde_json::Value = serde_json::from_str(text.as_str()).unwrap();
                if v["code"] == "rate_limited" {
                    rate_limited = true;
                    break;
                }
            }
            Ok(Some(Ok(_))) => {}
            other => panic!("{other:?}"),
        }
    }
    assert!(rate_limited, "an error named the rate cap");
    let metrics = server.metrics_text();
    let refused = metrics
        .lines()
        .find_map(|l| l.strip_prefix("livepose_frames_rate_limited_total "))
        .and_then(|v| v.parse::<u64>().ok());
    assert!(refused.is_some_and(|n| n >= 1), "{metrics}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn estimate_pose_answers_one_image_with_json() {
    let server = Server::start(config()).await.unwrap();
    let (status, _, body) = http(&server, "POST", "/estimate_pose", &jpeg()).await;
    assert_eq!(status, 200, "{body}");
    let result: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(
        result["body"].as_array().is_some_and(|b| !b.is_empty()),
        "{result}"
    );
    let (status, _, body) = http(&server, "POST", "/estimate_pose", b"not an image").await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("error"), "{body}");
    server.shutdown().await;
}
