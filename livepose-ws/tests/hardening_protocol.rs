//! Issue 23, item 5: the server says what docs/protocol.md says. An encoded image over
//! `max_pixels` is `image_too_large` (not `bad_image`); a binary message over the message
//! limit gets an `oversized` error and the close code 1009 (message too big, RFC 6455
//! §7.4.1), not a close without a code (1005); a `hello` of a protocol version the server
//! does not speak is `unsupported_version`, not a protocol-1 `welcome`.

mod support;

use support::hardening;

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use hardening::{jpeg, ws, Ws, EVENTUALLY};
use livepose_core::image::Codec;
use livepose_core::wire::{FrameHeader, ImageFormat};
use livepose_test_support::data;
use livepose_ws::{Server, ServerConfig};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

fn config() -> ServerConfig {
    ServerConfig::default()
        .addr("127.0.0.1:0".parse().unwrap())
        .workers(1)
        .demo(false)
        .stats_interval(Duration::from_secs(3600))
}

fn frame(sequence: u64, jpeg: &[u8]) -> Message {
    let mut bytes = Vec::new();
    FrameHeader::new(sequence, 0, ImageFormat::Encoded(Codec::Jpeg))
        .encode_with_payload(jpeg, &mut bytes)
        .unwrap();
    Message::Binary(bytes.into())
}

/// The control messages until the first `error` (or the socket's end, or [`EVENTUALLY`]);
/// the `error` last.
async fn until_error(socket: &mut Ws) -> Vec<serde_json::Value> {
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + EVENTUALLY;
    while let Ok(Some(Ok(message))) = tokio::time::timeout_at(deadline, socket.next()).await {
        if let Message::Text(text) = message {
            let json: serde_json::Value = serde_json::from_str(text.as_str()).unwrap();
            let done = json["type"] == "error";
            seen.push(json);
            if done {
                break;
            }
        }
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_encoded_image_over_max_pixels_is_image_too_large() {
    // The real models: the image's header is read where it is decoded.
    let config = config().models_dir(data::models()).max_pixels(1000);
    let server = Server::start(config).await.unwrap();
    let mut socket = ws(&server, "/ws").await.unwrap();
    socket.send(frame(5, &jpeg(64, 48))).await.unwrap();
    let seen = until_error(&mut socket).await;
    let error = seen.last().cloned().unwrap_or_default();
    assert_eq!(
        (error["code"].as_str(), error["sequence"].as_u64()),
        (Some("image_too_large"), Some(5)),
        "a 64x48 JPEG with max_pixels 1000: {error}"
    );
    // And on `/estimate_pose`.
    let (status, _, body) = hardening::request(
        &server,
        "POST",
        "/estimate_pose",
        &[("Content-Type", "image/jpeg")],
        &jpeg(64, 48),
    )
    .await;
    assert!(
        status == 400 && body.contains("\"image_too_large\""),
        "/estimate_pose: {status} {body}"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_binary_message_over_the_limit_is_oversized_then_closed_with_1009() {
    let server = hardening::start(config().max_message_bytes(4096)).await;
    let mut socket = ws(&server, "/ws").await.unwrap();
    socket
        .send(Message::Binary(vec![0u8; 64 << 10].into()))
        .await
        .unwrap();
    let mut error = None;
    let mut close = None;
    let deadline = tokio::time::Instant::now() + EVENTUALLY;
    while let Ok(Some(message)) = tokio::time::timeout_at(deadline, socket.next()).await {
        match message {
            Ok(Message::Text(text)) => {
                let json: serde_json::Value = serde_json::from_str(text.as_str()).unwrap();
                if json["type"] == "error" {
                    error = Some(json);
                }
            }
            Ok(Message::Close(frame)) => {
                close = Some(frame.map(|f| f.code));
                break;
            }
            Ok(_) => {}
            Err(e) => {
                close = Some(None);
                println!("read error: {e}");
                break;
            }
        }
    }
    println!("error: {error:?}, close frame: {close:?}");
    assert_eq!(
        error.as_ref().and_then(|e| e["code"].as_str()),
        Some("oversized"),
        "a 64 KiB message with a 4 KiB limit: error {error:?}, close {close:?}"
    );
    assert_eq!(
        close,
        Some(Some(CloseCode::Size)),
        "the close code of an oversized message (1009)"
    );
    // A new connection is served as usual.
    let mut again = ws(&server, "/ws").await.unwrap();
    again
        .send(Message::Text(r#"{"type":"hello","protocol":1}"#.into()))
        .await
        .unwrap();
    let welcome = until_error(&mut again).await;
    assert!(
        welcome.iter().any(|m| m["type"] == "welcome"),
        "{welcome:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hello_of_another_protocol_version_is_unsupported_version() {
    let server = hardening::start(config()).await;
    let mut socket = ws(&server, "/ws").await.unwrap();
    socket
        .send(Message::Text(r#"{"type":"hello","protocol":2}"#.into()))
        .await
        .unwrap();
    let seen = until_error(&mut socket).await;
    assert!(
        !seen.iter().any(|m| m["type"] == "welcome"),
        "a protocol-2 hello was welcomed: {seen:?}"
    );
    let error = seen.last().cloned().unwrap_or_default();
    assert_eq!(error["code"], "unsupported_version", "{seen:?}");
    // The stream stays open: a hello of version 1 is welcomed.
    socket
        .send(Message::Text(r#"{"type":"hello","protocol":1}"#.into()))
        .await
        .unwrap();
    let mut welcomed = false;
    let deadline = tokio::time::Instant::now() + EVENTUALLY;
    while let Ok(Some(Ok(message))) = tokio::time::timeout_at(deadline, socket.next()).await {
        if let Message::Text(text) = message {
            if text.contains("\"type\":\"welcome\"") && text.contains("\"protocol\":1") {
                welcomed = true;
                break;
            }
        }
    }
    assert!(
        welcomed,
        "no welcome for the protocol-1 hello that followed"
    );
}
