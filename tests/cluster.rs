//! Cluster mode on loopback, as it is deployed: a real `nats-server` with JetStream and two
//! or three `livepose serve --nats` processes. A camera on one node reaches viewers on the
//! others (results and frames); `?scope=cluster` lists every node's rooms and streams; two
//! cameras racing for a room on two nodes end with one; killing the camera's node tells the
//! remote viewers `camera_lost` and frees the room when its claim expires; restarting NATS
//! loses and then restores remote viewers while local ones keep going; SIGTERM drains a node
//! (`/ready` false, close code 1012, claims released at once).

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use livepose::core::image::Codec;
use livepose::core::wire::{peek_type, FrameHeader, ImageFormat, MessageType, ResultView};
use livepose_test_support::process::{Nats, Node, ADMIN_TOKEN};
use livepose_test_support::{data, frames, http};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

/// The `livepose` command cargo built for these tests (feature `cli`).
const LIVEPOSE: &str = env!("CARGO_BIN_EXE_livepose");

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

fn models() -> std::path::PathBuf {
    data::models()
}

/// A frame of the dance clip with one person, as a JPEG.
fn dance_jpeg() -> Vec<u8> {
    frames::jpeg_frame(frames::LAB, 25, 540, 960)
}

fn frame(sequence: u64, jpeg: &[u8]) -> Message {
    let mut bytes = Vec::new();
    FrameHeader::new(sequence, 0, ImageFormat::Encoded(Codec::Jpeg))
        .encode_with_payload(jpeg, &mut bytes)
        .unwrap();
    Message::Binary(bytes.into())
}

async fn connect(url: String) -> Ws {
    tokio_tungstenite::connect_async(url).await.unwrap().0
}

/// A camera sending a frame every 100 ms; what it receives comes out of the channel, and it
/// ends when its socket does.
fn camera(
    url: String,
    jpeg: Vec<u8>,
) -> (
    tokio::task::JoinHandle<()>,
    mpsc::UnboundedReceiver<Message>,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    let task = tokio::spawn(async move {
        let ws = connect(url).await;
        let (mut sink, mut source) = ws.split();
        let mut ticks = tokio::time::interval(Duration::from_millis(100));
        let mut sequence = 0;
        loop {
            tokio::select! {
                _ = ticks.tick() => {
                    sequence += 1;
                    if sink.send(frame(sequence, &jpeg)).await.is_err() {
                        return;
                    }
                }
                message = source.next() => match message {
                    Some(Ok(message)) => {
                        let closed = matches!(message, Message::Close(_));
                        let _ = tx.send(message);
                        if closed {
                            return;
                        }
                    }
                    _ => return,
                },
            }
        }
    });
    (task, rx)
}

/// Reads `ws` until `want` says yes; the message, or `None` after `within`.
async fn until(
    ws: &mut Ws,
    within: Duration,
    mut want: impl FnMut(&Message) -> bool,
) -> Option<Message> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Ok(Some(Ok(message))) if want(&message) => return Some(message),
            Ok(Some(Ok(_))) => continue,
            _ => return None,
        }
    }
}

fn is_result_with_pose(message: &Message) -> bool {
    match message {
        Message::Binary(bytes) => ResultView::parse(bytes).is_ok_and(|r| r.pose_count() == 1),
        _ => false,
    }
}

fn is_text_of_type(message: &Message, kind: &str) -> bool {
    match message {
        Message::Text(text) => text.contains(&format!("\"type\":\"{kind}\"")),
        _ => false,
    }
}

async fn get_json(node: &Node, path: &str) -> serde_json::Value {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], node.port));
    let bearer = format!("Bearer {ADMIN_TOKEN}");
    let headers = [("Authorization", bearer.as_str())];
    let (_, _, body) = http::request(addr, "GET", path, &headers, b"").await;
    serde_json::from_str(&body).unwrap_or(serde_json::Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_camera_on_one_node_reaches_viewers_on_the_others() {
    let nats = Nats::start();
    let models = models();
    let a = Node::start(LIVEPOSE, "a", &nats.url(), &models, &[]);
    let b = Node::start(LIVEPOSE, "b", &nats.url(), &models, &[]);
    let c = Node::start(LIVEPOSE, "c", &nats.url(), &models, &[]);
    let mut on_b = connect(b.ws("/ws/rooms/lab/view")).await;
    let mut on_c = connect(c.ws("/ws/rooms/lab/view?frames=1")).await;
    let mut drawn_on_b = connect(b.ws("/ws/rooms/lab/view?frames=annotated")).await;
    let started = Instant::now();
    let (sender, _) = camera(a.ws("/ws/rooms/lab/camera?token=cam"), dance_jpeg());
    let result = until(&mut on_b, Duration::from_secs(30), is_result_with_pose).await;
    println!("first result on node b after {:?}", started.elapsed());
    assert!(
        result.is_some(),
        "node b's viewer got no result from node a's camera"
    );
    assert!(
        until(&mut on_c, Duration::from_secs(30), is_result_with_pose)
            .await
            .is_some()
    );
    let frame = until(
        &mut on_c,
        Duration::from_secs(30),
        |m| matches!(m, Message::Binary(b) if peek_type(b).is_ok_and(|t| t == MessageType::Frame)),
    )
    .await;
    assert!(
        frame.is_some(),
        "node c's viewer asked for frames and got none"
    );
    // Annotated frames are drawn on node a, once, for node b's viewer.
    let drawn = until(
        &mut drawn_on_b,
        Duration::from_secs(30),
        |m| matches!(m, Message::Binary(b) if b.starts_with(&[0xFF, 0xD8, 0xFF])),
    )
    .await;
    assert!(
        drawn.is_some(),
        "node b's annotated viewer got no frame from node a"
    );

    // Every node's rooms and streams, from any node.
    let rooms = get_json(&b, "/rooms?scope=cluster").await;
    println!("GET /rooms?scope=cluster on b: {rooms}");
    assert_eq!(rooms["nodes"], serde_json::json!(["a", "b", "c"]));
    assert_eq!(rooms["missing"], serde_json::json!([]));
    let lab: Vec<_> = rooms["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["room"] == "lab")
        .collect();
    let on = |node: &str| {
        lab.iter()
            .find(|r| r["node"] == node)
            .copied()
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(on("a")["camera"]["kind"], "socket");
    assert!(on("a")["results_total"].as_u64().unwrap() > 0);
    assert_eq!(
        (on("b")["viewers"].as_u64(), on("c")["viewers"].as_u64()),
        (Some(2), Some(1))
    );
    assert!(on("a")["annotated_frames"].as_u64().unwrap() > 0);
    let streams = get_json(&c, "/streams?scope=cluster").await;
    let listed: Vec<_> = streams["streams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["node"].clone())
        .collect();
    assert_eq!(listed, [serde_json::json!("a")], "{streams}");
    let one = get_json(&a, "/rooms/lab?scope=cluster").await;
    assert_eq!(one["on_nodes"].as_array().map(Vec::len), Some(3), "{one}");
    // Without cluster scope, a node answers for itself.
    assert_eq!(
        get_json(&b, "/streams").await["streams"],
        serde_json::json!([])
    );
    sender.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_cameras_racing_for_a_room_on_two_nodes_end_with_one() {
    let nats = Nats::start();
    let models = models();
    let a = Node::start(LIVEPOSE, "a", &nats.url(), &models, &[]);
    let b = Node::start(LIVEPOSE, "b", &nats.url(), &models, &[]);
    let jpeg = dance_jpeg();
    for round in 0..3 {
        let room = format!("race{round}");
        let path = format!("/ws/rooms/{room}/camera?token=cam");
        let (task_a, mut got_a) = camera(a.ws(&path), jpeg.clone());
        let (task_b, mut got_b) = camera(b.ws(&path), jpeg.clone());
        // Within a few seconds one of them is told `camera_taken` and closed.
        let mut taken = [false, false];
        let deadline = Instant::now() + Duration::from_secs(15);
        while !(taken[0] || taken[1]) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
            for (i, got) in [&mut got_a, &mut got_b].into_iter().enumerate() {
                while let Ok(message) = got.try_recv() {
                    taken[i] |= is_text_of_type(&message, "error")
                        && message.to_text().unwrap_or("").contains("camera_taken");
                }
            }
        }
        println!(
            "round {round}: camera on a taken: {}, on b taken: {}",
            taken[0], taken[1]
        );
        assert!(taken[0] ^ taken[1], "exactly one camera must lose the room");
        // The winner keeps getting results.
        let winner = if taken[0] { &mut got_b } else { &mut got_a };
        let mut results = 0;
        let deadline = Instant::now() + Duration::from_secs(15);
        while results < 3 && Instant::now() < deadline {
            match tokio::time::timeout(Duration::from_secs(1), winner.recv()).await {
                Ok(Some(Message::Binary(_))) => results += 1,
                Ok(Some(_)) | Err(_) => {}
                Ok(None) => break,
            }
        }
        assert_eq!(results, 3, "the winning camera stopped getting results");
        task_a.abort();
        task_b.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_camera_node_tells_remote_viewers_and_frees_the_room() {
    let nats = Nats::start();
    let models = models();
    let mut a = Node::start(LIVEPOSE, "a", &nats.url(), &models, &[]);
    let b = Node::start(LIVEPOSE, "b", &nats.url(), &models, &[]);
    let mut viewer = connect(b.ws("/ws/rooms/hall/view")).await;
    let (sender, _) = camera(a.ws("/ws/rooms/hall/camera?token=cam"), dance_jpeg());
    assert!(
        until(&mut viewer, Duration::from_secs(30), is_result_with_pose)
            .await
            .is_some()
    );
    a.kill();
    let killed = Instant::now();
    let lost = until(&mut viewer, Duration::from_secs(15), |m| {
        is_text_of_type(m, "camera_lost")
    })
    .await;
    let lost_after = killed.elapsed();
    println!("camera_lost on node b {lost_after:?} after node a was killed: {lost:?}");
    let lost = lost.expect("no camera_lost");
    assert!(
        lost.to_text().unwrap().contains("\"reason\":\"node_lost\""),
        "{lost:?}"
    );
    sender.abort();
    // The dead node's claim expires: a camera on b gets the room (refused with
    // `camera_taken` until then, so it tries again every half second).
    let mut refusals = 0;
    let (sender, seated) = loop {
        assert!(
            killed.elapsed() < Duration::from_secs(30),
            "the dead node's claim never expired"
        );
        let (sender, mut got) = camera(b.ws("/ws/rooms/hall/camera?token=cam"), dance_jpeg());
        let seated = loop {
            match tokio::time::timeout(Duration::from_secs(10), got.recv()).await {
                Ok(Some(message)) if is_result_with_pose(&message) => break true,
                Ok(Some(message)) if is_text_of_type(&message, "error") => {
                    assert!(
                        message.to_text().unwrap().contains("camera_taken"),
                        "{message:?}"
                    );
                    break false;
                }
                Ok(Some(_)) => continue,
                Ok(None) | Err(_) => break false,
            }
        };
        if seated {
            break (sender, killed.elapsed());
        }
        refusals += 1;
        sender.abort();
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    println!(
        "camera on node b seated {seated:?} after node a was killed ({refusals} refusals before)"
    );
    assert!(
        refusals > 0,
        "the dead node's claim was free at once: it never held the room"
    );
    // Viewers on b see the new camera.
    assert!(
        until(&mut viewer, Duration::from_secs(20), is_result_with_pose)
            .await
            .is_some()
    );
    sender.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarting_nats_loses_then_restores_remote_viewers_and_local_rooms_keep_going() {
    let mut nats = Nats::start();
    let models = models();
    let a = Node::start(LIVEPOSE, "a", &nats.url(), &models, &[]);
    let b = Node::start(LIVEPOSE, "b", &nats.url(), &models, &[]);
    let mut local = connect(a.ws("/ws/rooms/hall/view")).await;
    let mut remote = connect(b.ws("/ws/rooms/hall/view")).await;
    let (sender, mut got) = camera(a.ws("/ws/rooms/hall/camera?token=cam"), dance_jpeg());
    assert!(
        until(&mut remote, Duration::from_secs(30), is_result_with_pose)
            .await
            .is_some()
    );
    nats.kill();
    let down = Instant::now();
    let lost = until(&mut remote, Duration::from_secs(15), |m| {
        is_text_of_type(m, "camera_lost")
    })
    .await;
    println!(
        "camera_lost on node b {:?} after NATS went down: {lost:?}",
        down.elapsed()
    );
    assert!(lost.is_some());
    // The local viewer keeps getting results while NATS is down.
    for _ in 0..5 {
        assert!(
            until(&mut local, Duration::from_secs(10), is_result_with_pose)
                .await
                .is_some()
        );
    }
    // Down for about 3.5 s: longer than a renewal's wait (2 s), shorter than the claim's life (6 s).
    // The renewal that timed out reaches NATS when it returns; the camera must keep its room.
    tokio::time::sleep(Duration::from_secs(3)).await;
    nats.restart();
    let up = Instant::now();
    println!("NATS was down for {:?}", down.elapsed());
    let back = until(&mut remote, Duration::from_secs(30), |m| {
        is_text_of_type(m, "camera_back")
    })
    .await;
    println!(
        "camera_back on node b {:?} after NATS returned",
        up.elapsed()
    );
    assert!(back.is_some(), "node b never heard node a's camera again");
    assert!(
        until(&mut remote, Duration::from_secs(10), is_result_with_pose)
            .await
            .is_some()
    );
    // Two renewals later the camera still holds its room (it was never told `camera_taken`)
    // and node b still gets its results.
    tokio::time::sleep(Duration::from_secs(5)).await;
    while let Ok(message) = got.try_recv() {
        let taken = message.to_text().is_ok_and(|t| t.contains("camera_taken"));
        assert!(!taken, "the camera lost its own room: {message:?}");
    }
    assert!(
        until(&mut remote, Duration::from_secs(10), is_result_with_pose)
            .await
            .is_some()
    );
    sender.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_a_node_and_releases_its_claims_at_once() {
    let nats = Nats::start();
    let models = models();
    let mut a = Node::start(LIVEPOSE, "a", &nats.url(), &models, &[]);
    let b = Node::start(LIVEPOSE, "b", &nats.url(), &models, &[]);
    assert_eq!(get_json(&a, "/ready").await["ready"], true);
    let (sender, mut got) = camera(a.ws("/ws/rooms/hall/camera?token=cam"), dance_jpeg());
    let mut stream = connect(a.ws("/ws")).await;
    stream.send(frame(1, &dance_jpeg())).await.unwrap();
    assert!(
        until(&mut stream, Duration::from_secs(30), is_result_with_pose)
            .await
            .is_some()
    );
    a.terminate();
    // The stream is closed with 1012 (service restart: reconnect).
    let close = until(&mut stream, Duration::from_secs(10), |m| {
        matches!(m, Message::Close(_))
    })
    .await;
    match close {
        Some(Message::Close(Some(frame))) => {
            assert_eq!(u16::from(frame.code), 1012);
            println!(
                "close on SIGTERM: {} {}",
                u16::from(frame.code),
                frame.reason
            );
        }
        other => panic!("expected a close frame, got {other:?}"),
    }
    let mut camera_closed = false;
    while let Ok(Some(message)) = tokio::time::timeout(Duration::from_secs(5), got.recv()).await {
        camera_closed |= matches!(&message, Message::Close(Some(f)) if u16::from(f.code) == 1012);
    }
    assert!(camera_closed, "the room's camera was not told to reconnect");
    assert!(a.wait().success(), "node a did not exit cleanly");
    sender.abort();
    // Its claim was released: a camera on b is seated at once, no waiting for expiry.
    let released = Instant::now();
    let (sender, mut got) = camera(b.ws("/ws/rooms/hall/camera?token=cam"), dance_jpeg());
    loop {
        let message = tokio::time::timeout(Duration::from_secs(20), got.recv()).await;
        let message = message.expect("no result").expect("closed");
        assert!(!is_text_of_type(&message, "error"), "refused: {message:?}");
        if is_result_with_pose(&message) {
            break;
        }
    }
    println!(
        "camera on b seated {:?} after node a drained",
        released.elapsed()
    );
    // A claim left to expire would hold the room for up to 6 s (its time-to-live).
    assert!(
        released.elapsed() < Duration::from_secs(5),
        "the claim was not released"
    );
    sender.abort();
}

/// Regression (issue 23, item 2): a viewer of a room named with 2,000 characters made
/// nats-server close node b's connection ("maximum control line exceeded": the room's subject
/// is longer than a NATS control line may be), again on every reconnection while the socket
/// stayed open, so b's other rooms got nothing and b left `?scope=cluster`. Such a name is
/// refused with 400 before anything reaches NATS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_room_name_cannot_take_a_node_off_nats() {
    let nats = Nats::start();
    let models = models();
    let a = Node::start(LIVEPOSE, "a", &nats.url(), &models, &[]);
    let b = Node::start(LIVEPOSE, "b", &nats.url(), &models, &[]);
    let mut viewer = connect(b.ws("/ws/rooms/lab/view")).await;
    let (sender, _) = camera(a.ws("/ws/rooms/lab/camera?token=cam"), dance_jpeg());
    assert!(
        until(&mut viewer, Duration::from_secs(30), is_result_with_pose)
            .await
            .is_some()
    );
    // 2,000 characters, each escaped in a subject token (`ü` is `=C3=BC`): 12,000 bytes.
    let long = "%C3%BC".repeat(2000);
    let attempt = tokio_tungstenite::connect_async(b.ws(&format!("/ws/rooms/{long}/view"))).await;
    let refused = match &attempt {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            Some(response.status().as_u16())
        }
        _ => None,
    };
    // Held open while node b is watched, if it was let in.
    let _held = attempt.ok();
    // Node b stays on NATS: its viewer of `lab` keeps getting node a's results and is never
    // told `camera_lost`, and b answers cluster views.
    let watched = Instant::now();
    let mut results = 0;
    while watched.elapsed() < Duration::from_secs(5) {
        match tokio::time::timeout(Duration::from_secs(1), viewer.next()).await {
            Ok(Some(Ok(message))) => {
                assert!(
                    !is_text_of_type(&message, "camera_lost"),
                    "node b lost NATS {:?} after the long name: {message:?}",
                    watched.elapsed()
                );
                results += usize::from(is_result_with_pose(&message));
            }
            Ok(other) => panic!("node b's viewer was closed: {other:?}"),
            Err(_) => {}
        }
    }
    println!("node b's viewer: {results} results in the 5 s after the long name");
    assert!(results > 0, "node b's viewer got no result");
    let streams = get_json(&a, "/streams?scope=cluster").await;
    assert_eq!(streams["nodes"], serde_json::json!(["a", "b"]), "{streams}");
    assert_eq!(streams["missing"], serde_json::json!([]), "{streams}");
    assert_eq!(refused, Some(400), "the long room name was not refused");
    sender.abort();
}
