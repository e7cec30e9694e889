//! Admission and per-message rules on a real socket, with inference off (each frame is
//! answered at once with an empty result, so no models are needed):
//! - an upgrade that is reset before it completes gives its per-IP place back;
//! - JSON+base64 frames count against the frame rate whatever fields they carry (a frame
//!   with a `"type"` field used to skip the rate check);
//! - a control message of an unknown type gets an error naming it, and the stream goes on;
//! - `/metrics` counters named `_total` never go down when streams close, and
//!   `livepose_connections` counts room viewers too;
//! - with a server token, `/streams`, `/metrics` and room viewing need it too;
//! - `POST /estimate_pose` takes an image as large as a socket message;
//! - text that is not UTF-8 closes the socket with 1007 (RFC 6455 §8.1);
//! - `livepose_errors_total` counts every error message sent, by code.

mod support;

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use livepose_ws::{Server, ServerConfig};
use support::http::http;
use tokio::io::AsyncWriteExt;
use tokio_tungstenite::tungstenite::Message;

fn config() -> ServerConfig {
    ServerConfig::default()
        .addr("127.0.0.1:0".parse().unwrap())
        .inference(false)
}

/// The next `error` message, skipping results and stats; fails after 10 s without one.
async fn next_error<S>(socket: &mut S) -> serde_json::Value
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    let wait = async {
        loop {
            let message = socket.next().await.expect("open").expect("a message");
            if let Message::Text(text) = message {
                let value: serde_json::Value = serde_json::from_str(&text).unwrap();
                if value["type"] == "error" {
                    return value;
                }
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), wait)
        .await
        .expect("an error message within 10 s")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upgrades_reset_midway_give_their_per_ip_place_back() {
    let server = Server::start(config().max_connections(64, 2))
        .await
        .unwrap();
    let addr = server.local_addr();
    let request = format!(
        "GET /ws HTTP/1.1\r\nHost: {addr}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    );
    // Connections that end at different moments around the upgrade: reset (linger 0: RST,
    // not FIN) or half-closed right after the request, or reset just after the first byte
    // of the server's answer. Some land after the server has admitted the connection and
    // before the upgrade completes.
    for i in 0..90u64 {
        let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        tcp.write_all(request.as_bytes()).await.unwrap();
        match i % 3 {
            0 => {}
            1 => tcp.shutdown().await.unwrap(),
            _ => {
                let mut byte = [0u8];
                let _ = tokio::io::AsyncReadExt::read(&mut tcp, &mut byte).await;
            }
        }
        socket2::SockRef::from(&tcp)
            .set_linger(Some(Duration::ZERO))
            .unwrap();
        drop(tcp);
    }
    // Both places come back: two sockets open at once from this address. (Before the
    // fix, a place taken by an upgrade that never completed was never given back.)
    let url = format!("ws://{addr}/ws");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let first = tokio_tungstenite::connect_async(&url).await;
        let second = tokio_tungstenite::connect_async(&url).await;
        if first.is_ok() && second.is_ok() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "per-IP places still taken 10 s after the resets"
        );
        drop((first, second));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_frames_with_a_type_field_are_rate_limited() {
    let server = Server::start(config().max_fps(5)).await.unwrap();
    let (mut socket, _) =
        tokio_tungstenite::connect_async(format!("ws://{}/ws", server.local_addr()))
            .await
            .unwrap();
    // A compat frame (a JPEG signature: inference is off, nothing is decoded) with a numeric "type" field of the
    // client's own, 30 times at once: more than 5 in one second.
    let frame = r#"{"type":0,"image":"/9j/4AAQSkZJRgABAQ==","timestamp":1.0}"#;
    for _ in 0..30 {
        socket.send(Message::Text(frame.into())).await.unwrap();
    }
    let error = next_error(&mut socket).await;
    assert_eq!(error["code"], "rate_limited", "{error}");
    server.shutdown().await;
}

/// Regression: a `config` with a bad value was answered "unknown message type \"config\"".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_control_message_with_a_bad_value_names_the_value() {
    let server = Server::start(config()).await.unwrap();
    let (mut socket, _) =
        tokio_tungstenite::connect_async(format!("ws://{}/ws", server.local_addr()))
            .await
            .unwrap();
    socket
        .send(Message::Text(r#"{"type":"config","model":"huge"}"#.into()))
        .await
        .unwrap();
    let error = next_error(&mut socket).await;
    assert_eq!(error["code"], "bad_json", "{error}");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains(r#"unknown model "huge""#), "{error}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_control_type_is_named_and_the_stream_goes_on() {
    let server = Server::start(config()).await.unwrap();
    let (mut socket, _) =
        tokio_tungstenite::connect_async(format!("ws://{}/ws", server.local_addr()))
            .await
            .unwrap();
    socket
        .send(Message::Text(
            r#"{"type":"subscribe","topic":"poses"}"#.into(),
        ))
        .await
        .unwrap();
    let error = next_error(&mut socket).await;
    assert_eq!(error["code"], "unknown_type", "{error}");
    assert!(
        error["message"].as_str().unwrap().contains("\"subscribe\""),
        "{error}"
    );
    assert_eq!(error["fatal"], false);
    // A frame with a type of the client's own beside its image is still a frame.
    socket
        .send(Message::Text(
            r#"{"type":"frame","image":"/9j/4AAQSkZJRgABAQ=="}"#.into(),
        ))
        .await
        .unwrap();
    let answer = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Text(text))) if text.contains("\"error\"") => {
                    return text.to_string()
                }
                Some(Ok(Message::Text(text))) if !text.contains("\"stats\"") => {
                    return text.to_string()
                }
                Some(Ok(Message::Binary(_))) => return "binary result".to_string(),
                Some(Ok(_)) => continue,
                other => panic!("{other:?}"),
            }
        }
    })
    .await
    .unwrap();
    assert!(!answer.contains("\"error\""), "{answer}");
    server.shutdown().await;
}

/// The value of the unlabelled metric `name` in a `/metrics` text.
fn metric(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn totals_survive_closed_streams_and_viewers_are_connections() {
    // With rooms, `/metrics` and `/streams` need the admin token.
    let server = Server::start(config().rooms("publish", None).admin_token("adm"))
        .await
        .unwrap();
    let addr = server.local_addr();
    let mut sockets = Vec::new();
    for _ in 0..2 {
        let (mut socket, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
            .await
            .unwrap();
        for _ in 0..3 {
            socket
                .send(Message::Text(r#"{"image":"/9j/4AAQSkZJRgABAQ=="}"#.into()))
                .await
                .unwrap();
        }
        sockets.push(socket);
    }
    let (viewer, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws/rooms/hall/view"))
        .await
        .unwrap();
    let received = |text: &str| metric(text, "livepose_frames_received_total");
    // Every frame counted and the viewer's session started (after the upgrade), then both
    // streams closed. Before the fix viewers were not connections, and this waited in vain.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let open = loop {
        let (_, _, text) = http(&server, "GET", "/metrics?token=adm", b"").await;
        if received(&text) == 6 && metric(&text, "livepose_connections") == 3 {
            break text;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "two streams and a viewer: {text}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    drop(sockets);
    loop {
        let (_, _, streams) = http(&server, "GET", "/streams?token=adm", b"").await;
        if streams.contains("\"streams\":[]") {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{streams}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (_, _, closed) = http(&server, "GET", "/metrics?token=adm", b"").await;
    assert_eq!(received(&closed), 6, "{closed}");
    assert!(
        metric(&closed, "livepose_frames_dropped_total")
            >= metric(&open, "livepose_frames_dropped_total"),
        "{closed}"
    );
    assert_eq!(
        metric(&closed, "livepose_connections"),
        1,
        "the viewer, still open"
    );
    drop(viewer);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_token_guards_streams_metrics_and_viewing() {
    let server = Server::start(config().token("s3cret").rooms("publish", None))
        .await
        .unwrap();
    for path in ["/streams", "/metrics"] {
        let (status, _, _) = http(&server, "GET", path, b"").await;
        assert_eq!(status, 401, "{path} without the token");
        let (status, _, _) = http(&server, "GET", &format!("{path}?token=s3cret"), b"").await;
        assert_eq!(status, 200, "{path} with the token");
    }
    let (status, _, _) = http(&server, "GET", "/health", b"").await;
    assert_eq!(status, 200, "/health stays open for liveness probes");
    let url = format!("ws://{}/ws/rooms/hall/view", server.local_addr());
    let refused = tokio_tungstenite::connect_async(&url).await.unwrap_err();
    assert!(
        matches!(&refused, tokio_tungstenite::tungstenite::Error::Http(r) if r.status() == 401),
        "{refused}"
    );
    let (viewer, _) = tokio_tungstenite::connect_async(format!("{url}?frames=1&token=s3cret"))
        .await
        .unwrap();
    drop(viewer);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn estimate_pose_takes_an_image_as_large_as_a_socket_message() {
    let server = Server::start(config()).await.unwrap();
    // 3 MB (inference is off: the body is answered without being decoded).
    let mut body = vec![0u8; 3 << 20];
    body[..4].copy_from_slice(&[0xFF, 0xD8, 0xFF, 0xE0]);
    let (status, _, text) = http(&server, "POST", "/estimate_pose", &body).await;
    assert_eq!(status, 200, "{text}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rate_cap_is_announced_and_refused_frames_are_knowable() {
    use livepose_core::image::Codec;
    use livepose_core::wire::{FrameHeader, ImageFormat};
    let server = Server::start(config().max_fps(5)).await.unwrap();
    let (mut socket, _) =
        tokio_tungstenite::connect_async(format!("ws://{}/ws", server.local_addr()))
            .await
            .unwrap();
    socket
        .send(Message::Text(r#"{"type":"hello","protocol":1}"#.into()))
        .await
        .unwrap();
    for sequence in 1..=8u64 {
        let header = FrameHeader::new(sequence, 0, ImageFormat::Encoded(Codec::Jpeg));
        let mut bytes = Vec::new();
        header
            .encode_with_payload(&[0xFF, 0xD8, 0xFF, 0xE0], &mut bytes)
            .unwrap();
        socket.send(Message::Binary(bytes.into())).await.unwrap();
    }
    let (mut welcome, mut error, mut stats) = (None, None, None);
    let wait = async {
        while welcome.is_none() || error.is_none() || stats.is_none() {
            let Some(Ok(Message::Text(text))) = socket.next().await else {
                continue;
            };
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            match v["type"].as_str() {
                Some("welcome") => welcome = Some(v),
                Some("error") => error = Some(v),
                Some("stats") if v["frames_rate_limited"].as_u64() > Some(0) => stats = Some(v),
                _ => {}
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), wait)
        .await
        .expect("welcome, error and stats within 10 s");
    let (welcome, error, stats) = (welcome.unwrap(), error.unwrap(), stats.unwrap());
    assert_eq!(welcome["limits"]["max_fps"], 5, "{welcome}");
    assert_eq!(error["code"], "rate_limited", "{error}");
    assert_eq!(error["sequence"], 6, "the first refused frame: {error}");
    assert_eq!(stats["frames_rate_limited"], 3, "{stats}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_that_is_not_utf8_closes_with_1007() {
    use tokio_tungstenite::tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};
    use tokio_tungstenite::tungstenite::protocol::frame::Frame;
    let server = Server::start(config()).await.unwrap();
    let (mut socket, _) =
        tokio_tungstenite::connect_async(format!("ws://{}/ws", server.local_addr()))
            .await
            .unwrap();
    // A text frame whose payload is not UTF-8 (0xff never occurs in UTF-8). Before the
    // fix the server dropped the connection with no close code (1005).
    let frame = Frame::message(vec![b'{', 0xff, 0xfe, b'}'], OpCode::Data(Data::Text), true);
    socket.send(Message::Frame(frame)).await.unwrap();
    let close = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Close(frame))) => return frame,
                Some(Ok(_)) => continue,
                other => panic!("expected a close frame, got {other:?}"),
            }
        }
    })
    .await
    .expect("closed within 10 s")
    .expect("a close code");
    assert_eq!(close.code, CloseCode::Invalid, "{close:?}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_total_counts_every_error_sent_by_code() {
    let server = Server::start(config()).await.unwrap();
    let (mut socket, _) =
        tokio_tungstenite::connect_async(format!("ws://{}/ws", server.local_addr()))
            .await
            .unwrap();
    // A wire error, a JSON+base64 frame that is not JSON, and an unknown control type;
    // before the fix only the first was counted.
    let sent = [
        (Message::Binary(vec![0x4c, 0x50].into()), "truncated"),
        (Message::Text("{not json".into()), "bad_json"),
        (
            Message::Text(r#"{"type":"subscribe"}"#.into()),
            "unknown_type",
        ),
    ];
    for (message, code) in sent {
        socket.send(message).await.unwrap();
        let error = next_error(&mut socket).await;
        assert_eq!(error["code"], code, "{error}");
    }
    let (_, _, text) = http(&server, "GET", "/metrics", b"").await;
    for code in ["truncated", "bad_json", "unknown_type"] {
        let name = format!("livepose_errors_total{{code=\"{code}\"}}");
        assert_eq!(metric(&text, &name), 1, "{name} in\n{text}");
    }
    server.shutdown().await;
}

/// Regression (issue 23, item 2): room names were not checked. One check now holds on every
/// route that names a room: a name with a control character (it forged log lines), one longer
/// than 128 bytes (its NATS subjects would not fit a control line), or an empty one (an
/// empty path segment does not reach these routes) is refused with 400 `bad_room` before the
/// socket is upgraded or anything else is done.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn room_names_are_checked_on_every_route() {
    let server = Server::start(config().rooms("cam", None)).await.unwrap();
    let addr = server.local_addr();
    let long = "%C3%BC".repeat(65); // 65 characters, 130 bytes
    for name in ["a%0Ab", "tab%09", long.as_str()] {
        for path in [
            format!("/ws/rooms/{name}/view"),
            format!("/ws/rooms/{name}/camera?token=cam"),
        ] {
            match tokio_tungstenite::connect_async(format!("ws://{addr}{path}")).await {
                Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                    assert_eq!(response.status(), 400, "{path}");
                    let body = String::from_utf8_lossy(response.body().as_deref().unwrap_or(&[]))
                        .to_string();
                    assert!(body.starts_with("bad_room"), "{path}: {body}");
                }
                Err(other) => panic!("{path}: {other}"),
                Ok(_) => panic!("{path}: upgraded"),
            }
        }
        for (method, path) in [
            ("POST", format!("/rooms/{name}/source?token=cam")),
            ("DELETE", format!("/rooms/{name}/source?token=cam")),
            ("DELETE", format!("/rooms/{name}?token=cam")),
            ("GET", format!("/rooms/{name}")),
            ("GET", format!("/rooms/{name}/mjpeg")),
        ] {
            let (status, _, body) =
                http(&server, method, &path, br#"{"url":"http://127.0.0.1:9/"}"#).await;
            assert_eq!(status, 400, "{method} {path}: {body}");
            assert!(body.starts_with("bad_room"), "{method} {path}: {body}");
        }
    }
    // 128 bytes is still a name.
    let longest = "%C3%BC".repeat(64);
    let (viewer, _) =
        tokio_tungstenite::connect_async(format!("ws://{addr}/ws/rooms/{longest}/view"))
            .await
            .unwrap();
    drop(viewer);
    let (_, _, rooms) = http(&server, "GET", "/rooms", b"").await;
    assert!(!rooms.contains("a\\nb"), "{rooms}");
    server.shutdown().await;
}
