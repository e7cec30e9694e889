//! Socket.IO at `/socket.io/`, spoken by hand over raw HTTP long-polling (Engine.IO 4 /
//! Socket.IO 5 packets): the handshake announces the server's heartbeat, the namespace
//! refuses a connection without the token with `connect_error` (Socket.IO packet `4`), and
//! accepts one with it, emitting `welcome`; `socketio(false)` turns the path off. The real
//! clients (socket.io-client in Node and Chromium, python-socketio) run against the server
//! in livepose-ws/demo/test/socketio*.test.js and livepose-py/tests/test_socketio.py.

mod support;

use std::time::Duration;

use livepose_ws::{Server, ServerConfig};
use support::http::http;

async fn server(socketio: bool) -> Server {
    let config = ServerConfig::default()
        .addr("127.0.0.1:0".parse().unwrap())
        .workers(1)
        .inference(false)
        .demo(false)
        .heartbeat(Duration::from_secs(3))
        .token("secret")
        .socketio(socketio);
    Server::start(config).await.unwrap()
}

/// Opens an Engine.IO session by polling; returns its id.
async fn open(server: &Server) -> String {
    let (status, _, body) = http(server, "GET", "/socket.io/?EIO=4&transport=polling", b"").await;
    assert_eq!(status, 200, "{body}");
    // Engine.IO open packet: `0` then the handshake JSON.
    let handshake: serde_json::Value =
        serde_json::from_str(body.strip_prefix('0').expect(&body)).unwrap();
    assert_eq!(
        handshake["pingInterval"], 3000,
        "the heartbeat is the server's"
    );
    assert!(handshake["upgrades"]
        .as_array()
        .unwrap()
        .iter()
        .any(|u| u == "websocket"));
    handshake["sid"].as_str().unwrap().to_string()
}

/// Sends one Socket.IO packet on session `sid`; returns the Engine.IO message packets
/// (Socket.IO packets) of the next poll, leaving out pings.
async fn exchange(server: &Server, sid: &str, packet: &str) -> Vec<String> {
    let path = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    let (status, _, body) = http(server, "POST", &path, format!("4{packet}").as_bytes()).await;
    assert_eq!((status, body.as_str()), (200, "ok"));
    poll(server, sid).await
}

/// The Socket.IO packets of the next poll (a payload's packets are split by 0x1e).
async fn poll(server: &Server, sid: &str) -> Vec<String> {
    let path = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    let (status, _, body) = http(server, "GET", &path, b"").await;
    assert_eq!(status, 200, "{body}");
    body.split('\x1e')
        .filter_map(|p| p.strip_prefix('4'))
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn the_namespace_wants_the_token_and_says_welcome() {
    let server = server(true).await;
    let sid = open(&server).await;
    let refused = exchange(&server, &sid, "0").await;
    assert!(
        refused[0].starts_with("4{") && refused[0].contains("a token is required"),
        "{refused:?}"
    );
    assert_eq!(server.stream_count(), 0);

    let sid = open(&server).await;
    let mut packets = exchange(
        &server,
        &sid,
        r#"0{"token":"secret","result_event":"pose_result"}"#,
    )
    .await;
    // `0{"sid":…}` (connected), then the `welcome` event, in this poll or the next.
    assert!(packets[0].starts_with("0{\"sid\""), "{packets:?}");
    if packets.len() < 2 {
        packets.extend(poll(&server, &sid).await);
    }
    assert!(
        packets[1].starts_with(r#"2["welcome",{"#) && packets[1].contains(r#""results":"json""#),
        "{packets:?}"
    );
    assert_eq!(
        server.stream_count(),
        1,
        "a Socket.IO connection is a stream"
    );
    assert!(server
        .metrics_text()
        .contains("livepose_rejected_connections_total 1"));
}

#[tokio::test]
async fn pages_from_other_origins_may_poll() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = server(true).await;
    let mut socket = tokio::net::TcpStream::connect(server.local_addr())
        .await
        .unwrap();
    let request = "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: localhost\r\n\
                   Origin: https://app.example\r\nConnection: close\r\n\r\n";
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    socket.read_to_string(&mut response).await.unwrap();
    let head = response.to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{response}");
    // No `allowed_origins`: any origin, without credentials (issue 23 item 8; pages of
    // listed origins get credentials: hardening_access.rs).
    assert!(
        head.contains("access-control-allow-origin: *"),
        "{response}"
    );
    assert!(
        !head.contains("access-control-allow-credentials: true"),
        "{response}"
    );
}

#[tokio::test]
async fn socketio_false_turns_the_path_off() {
    let server = server(false).await;
    let (status, _, _) = http(&server, "GET", "/socket.io/?EIO=4&transport=polling", b"").await;
    assert_eq!(status, 404);
}

/// The first `error` event of the next polls (within 10 s, answering the server's pings),
/// or `None`.
async fn next_error_event(server: &Server, sid: &str) -> Option<serde_json::Value> {
    let path = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while tokio::time::Instant::now() < deadline {
        let (status, _, body) = http(server, "GET", &path, b"").await;
        assert_eq!(status, 200, "{body}");
        for packet in body.split('\x1e') {
            if packet == "2" {
                // An Engine.IO ping: pong.
                http(server, "POST", &path, b"3").await;
            } else if let Some(event) = packet.strip_prefix("42") {
                let event: serde_json::Value = serde_json::from_str(event).unwrap();
                if event[0] == "error" {
                    return Some(event[1].clone());
                }
            }
        }
    }
    None
}

/// Regression (issue 23, item 2): a `join` took any room name (100 KB ones, empty ones, with
/// line feeds). It gets the same check as every route: an `error` event `bad_room`, and the
/// connection goes on (a good name then joins).
#[tokio::test]
async fn join_checks_the_room_name() {
    let config = ServerConfig::default()
        .addr("127.0.0.1:0".parse().unwrap())
        .workers(1)
        .inference(false)
        .demo(false)
        .heartbeat(Duration::from_secs(60))
        .rooms("cam", None);
    let server = Server::start(config).await.unwrap();
    let (_, _, body) = http(&server, "GET", "/socket.io/?EIO=4&transport=polling", b"").await;
    let handshake: serde_json::Value = serde_json::from_str(&body[1..]).unwrap();
    let sid = handshake["sid"].as_str().unwrap().to_string();
    let packets = exchange(&server, &sid, "0").await;
    assert!(packets[0].starts_with("0{\"sid\""), "{packets:?}");
    let huge = "x".repeat(100_000);
    for (name, what) in [
        ("", "empty"),
        ("a\nb", "a line feed"),
        (huge.as_str(), "100 KB"),
    ] {
        for role in ["viewer", "camera"] {
            let join = serde_json::json!(["join", {"room": name, "role": role, "token": "cam"}]);
            let path = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
            let (status, _, _) = http(&server, "POST", &path, format!("42{join}").as_bytes()).await;
            assert_eq!(status, 200);
            let error = next_error_event(&server, &sid).await;
            let error = error.unwrap_or_else(|| panic!("{what} name, {role}: no error"));
            assert_eq!(error["code"], "bad_room", "{what} name, {role}: {error}");
        }
    }
    let (_, _, rooms) = http(&server, "GET", "/rooms", b"").await;
    assert_eq!(
        rooms, r#"{"rooms":[]}"#,
        "a refused join left a room behind"
    );
    server.shutdown().await;
}
