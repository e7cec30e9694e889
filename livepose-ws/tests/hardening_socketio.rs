//! Issue 23, item 1: Socket.IO connections that close while their connect handler still
//! runs must leave nothing behind (no stream in `/streams`, nothing in
//! `livepose_connections`, no place in `--max-connections`), and an event sent the moment
//! the connect ack arrives must be handled. Raw sockets for the races (both transports: the
//! raw client acts on the ack at once, as a fast client on a fast network does), the real
//! client (socket.io-client) for connections that leave at every point of the handshake and
//! for events sent on `connect`.

mod support;

use support::hardening;

use std::time::Duration;

use futures_util::SinkExt;
use hardening::{
    held, json_frame, node_socketio, polling_open, polling_post, settle, sio_emit, sio_event,
    sio_ws, start, tiny_jpeg, ws, Held,
};
use livepose_ws::{Server, ServerConfig};
use tokio_tungstenite::tungstenite::Message;

/// Most streams: small, so that a few ghosts fill the server.
const MAX_CONNECTIONS: usize = 8;

async fn server() -> Server {
    let config = ServerConfig::default()
        .addr("127.0.0.1:0".parse().unwrap())
        .workers(1)
        .demo(false)
        .max_connections(MAX_CONNECTIONS, MAX_CONNECTIONS)
        .heartbeat(Duration::from_secs(2))
        .rooms("cam", Some("view".into()));
    start(config).await
}

/// After the churn: nothing held, and a plain `/ws` client and a Socket.IO client are both
/// admitted.
async fn nothing_left_and_admitted(server: &Server, what: &str) {
    let left = settle(server, Some("view")).await;
    assert_eq!(
        left,
        Held {
            streams: 0,
            connections: 0.0,
            rooms: 0,
            sources: 0
        },
        "{what}: left behind (streams in /streams, livepose_connections, rooms, sources)"
    );
    let mut plain = ws(server, "/ws")
        .await
        .unwrap_or_else(|e| panic!("{what}: a /ws client is refused afterwards: {e}"));
    plain
        .send(Message::Text(r#"{"type":"hello","protocol":1}"#.into()))
        .await
        .unwrap();
    let mut io = sio_ws(server).await;
    io.send(Message::Text("40{}".into())).await.unwrap();
    let ack = hardening::next_text(&mut io).await;
    assert!(
        ack.as_deref().is_some_and(|a| a.starts_with("40{\"sid\"")),
        "{what}: a Socket.IO client is refused afterwards: {ack:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quick_closes_over_websocket_leave_no_ghost_streams() {
    let server = server().await;
    let tries = 300;
    let mut acked = 0;
    for _ in 0..tries {
        // Open, read the open packet, connect to `/`, close at once.
        let mut io = sio_ws(&server).await;
        io.send(Message::Text("40{}".into())).await.unwrap();
        let _ = io.close(None).await;
        acked += 1;
    }
    let now = held(&server, Some("view")).await;
    println!("{acked} quick closes over WebSocket; just after: {now:?}");
    nothing_left_and_admitted(&server, "quick closes over WebSocket").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quick_closes_over_polling_leave_no_ghost_streams() {
    let server = server().await;
    let tries = 300;
    for i in 0..tries {
        let sid = polling_open(&server).await;
        // Connect to `/` and close the Engine.IO session at once: in one payload, or in two
        // requests back to back.
        if i % 2 == 0 {
            polling_post(&server, &sid, "40{}\x1e1").await;
        } else {
            polling_post(&server, &sid, "40{}").await;
            polling_post(&server, &sid, "1").await;
        }
    }
    let now = held(&server, Some("view")).await;
    println!("{tries} quick closes over polling; just after: {now:?}");
    nothing_left_and_admitted(&server, "quick closes over polling").await;
}

/// One Socket.IO connection over WebSocket that sends `event` the moment it reads the
/// connect ack; whether the event was answered (a result for a `frame`, a second `welcome`
/// for a `config`, the `unauthorized` error of a `join` with a wrong token).
async fn answered_right_after_the_ack(server: &Server, event: &str) -> bool {
    let mut io = sio_ws(server).await;
    io.send(Message::Text("40{}".into())).await.unwrap();
    let ack = hardening::next_text(&mut io).await.unwrap_or_default();
    assert!(ack.starts_with("40{\"sid\""), "{ack}");
    let (data, answer) = match event {
        "frame" => (json_frame(&tiny_jpeg(), 7), "pose_data"),
        "config" => (serde_json::json!({"max_result_fps": 30}), "welcome"),
        _ => (
            serde_json::json!({"room": "r", "role": "viewer", "token": "wrong"}),
            "error",
        ),
    };
    io.send(sio_emit(event, &data)).await.unwrap();
    // The connection's own `welcome` comes first: a `config` is answered by a second one.
    let wanted = if event == "config" { 2 } else { 1 };
    let mut seen = 0;
    while seen < wanted {
        if sio_event(&mut io, answer, hardening::EVENTUALLY / 3)
            .await
            .is_none()
        {
            break;
        }
        seen += 1;
    }
    let _ = io.close(None).await;
    seen == wanted
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_sent_right_after_the_connect_ack_are_handled() {
    let config = ServerConfig::default()
        .addr("127.0.0.1:0".parse().unwrap())
        .workers(1)
        .demo(false)
        .max_connections(256, 256)
        .rooms("cam", Some("view".into()));
    let server = start(config).await;
    // One after the other, a third of each event; a few losses are enough to tell.
    let tries = 60;
    let mut lost = Vec::new();
    for i in 0..tries {
        let event = ["frame", "config", "join"][i % 3];
        if !answered_right_after_the_ack(&server, event).await {
            lost.push(format!("try {i}: {event}"));
            if lost.len() == 3 {
                break;
            }
        }
    }
    assert!(
        lost.is_empty(),
        "events sent right after the connect ack went unanswered: {lost:?}"
    );
    nothing_left_and_admitted(&server, "events after the ack").await;
}

/// The real client, both transports: connections leaving at every point (before the ack,
/// at it, right after a `frame`, right after a `join`). socket.io-client acts on the ack
/// later than the raw client above, so the race is rarer: on the code the issue was filed
/// against this left one ghost over polling in one run of three (100 tries per transport).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socketio_client_leaving_at_every_point_leaves_nothing() {
    let server = server().await;
    let image = json_frame(&tiny_jpeg(), 1)["image"]
        .as_str()
        .unwrap()
        .to_string();
    for transport in ["websocket", "polling"] {
        let report = node_socketio(&server, &["churn", "100", transport, "-", &image]).await;
        println!("socket.io-client churn over {transport}: {report}");
        nothing_left_and_admitted(&server, &format!("socket.io-client over {transport}")).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socketio_client_events_on_connect_are_answered() {
    let server = server().await;
    let image = json_frame(&tiny_jpeg(), 1)["image"]
        .as_str()
        .unwrap()
        .to_string();
    let mut failures = Vec::new();
    for transport in ["websocket", "polling"] {
        for event in ["frame", "config", "join"] {
            let report = node_socketio(&server, &["answers", "30", transport, event, &image]).await;
            println!("socket.io-client `{event}` on connect over {transport}: {report}");
            if report["answered"] != report["tries"] {
                failures.push(format!("{event} over {transport}: {report}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "events emitted on `connect` went unanswered: {failures:?}"
    );
    nothing_left_and_admitted(&server, "events on connect").await;
}
