//! Issue 23's churn test: a few hundred connections that leave at every point of their
//! handshake, over `/ws`, the room sockets and Socket.IO (raw, both transports, and the
//! real client), resets in the middle of a frame, viewers joining and leaving rooms, a
//! source added and removed. Afterwards the server holds nothing (`/streams`, `/rooms`,
//! `/sources`, `livepose_connections`), every per-IP place is back (as many clients as the
//! per-IP limit are admitted at once) and a normal client is served. Bounded in count,
//! not a timing test: every wait is "eventually", with a generous bound.

mod support;

use support::hardening;

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use futures_util::SinkExt;
use hardening::{
    json_frame, node_socketio, polling_open, polling_post, request, settle, sio_emit, start,
    tiny_jpeg, ws, Held,
};
use livepose_core::image::Codec;
use livepose_core::wire::{FrameHeader, ImageFormat};
use livepose_ws::{Server, ServerConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

const PER_IP: usize = 16;
const TOKEN: &str = "cam";

fn frame_bytes(sequence: u64) -> Vec<u8> {
    let mut bytes = Vec::new();
    FrameHeader::new(sequence, 0, ImageFormat::Encoded(Codec::Jpeg))
        .encode_with_payload(&tiny_jpeg(), &mut bytes)
        .unwrap();
    bytes
}

/// Closes `socket` with a TCP reset (linger 0), not a FIN.
fn reset(socket: TcpStream) {
    let socket = socket.into_std().unwrap();
    let socket = socket2::Socket::from(socket);
    let _ = socket.set_linger(Some(Duration::ZERO));
    drop(socket);
}

/// A WebSocket upgrade of `path` done by hand: the TCP stream after the 101 (or `None` if
/// refused).
async fn raw_upgrade(addr: SocketAddr, path: &str) -> Option<TcpStream> {
    let mut socket = TcpStream::connect(addr).await.ok()?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    socket.write_all(request.as_bytes()).await.ok()?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if socket.read(&mut byte).await.ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    head.starts_with(b"HTTP/1.1 101").then_some(socket)
}

/// The header of a masked binary WebSocket frame of `len` bytes (len < 65536).
fn frame_head(len: usize) -> Vec<u8> {
    let mut head = vec![0x82, 0x80 | 126];
    head.extend_from_slice(&(len as u16).to_be_bytes());
    head.extend_from_slice(&[1, 2, 3, 4]);
    head
}

/// A plain or room socket that leaves at point `point` of 7.
async fn socket_leaving_at(addr: SocketAddr, path: &str, point: usize) {
    match point {
        // TCP connect, then gone.
        0 => drop(TcpStream::connect(addr).await),
        // Half an upgrade request.
        1 => {
            if let Ok(mut socket) = TcpStream::connect(addr).await {
                let _ = socket.write_all(b"GET /ws HTTP/1.1\r\nHost: x\r\n").await;
                reset(socket);
            }
        }
        // Upgraded, then a reset without a close frame.
        2 => {
            if let Some(socket) = raw_upgrade(addr, path).await {
                reset(socket);
            }
        }
        // Upgraded, a frame header and part of its payload, then a reset.
        3 => {
            if let Some(mut socket) = raw_upgrade(addr, path).await {
                let _ = socket.write_all(&frame_head(1000)).await;
                let _ = socket.write_all(&[0u8; 10]).await;
                reset(socket);
            }
        }
        // A whole frame, then a reset.
        4 => {
            if let Some(mut socket) = raw_upgrade(addr, path).await {
                let payload = frame_bytes(1);
                let mut message = frame_head(payload.len());
                message.extend(
                    payload
                        .iter()
                        .enumerate()
                        .map(|(i, b)| b ^ [1, 2, 3, 4][i % 4]),
                );
                let _ = socket.write_all(&message).await;
                reset(socket);
            }
        }
        // A hello and a frame, then a proper close.
        5 => {
            if let Ok((mut socket, _)) =
                tokio_tungstenite::connect_async(format!("ws://{addr}{path}")).await
            {
                let hello = r#"{"type":"hello","protocol":1}"#;
                let _ = socket.send(Message::Text(hello.into())).await;
                let _ = socket.send(Message::Binary(frame_bytes(2).into())).await;
                let _ = socket.close(None).await;
            }
        }
        // Upgraded, then silence: the heartbeat ends it.
        _ => {
            if let Some(socket) = raw_upgrade(addr, path).await {
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_secs(10)).await;
                    drop(socket);
                });
            }
        }
    }
}

/// Socket.IO over WebSocket, by hand, leaving at point `point` of 6.
async fn socketio_leaving_at(server: &Server, point: usize, i: usize) {
    let Ok(mut io) = ws(server, "/socket.io/?EIO=4&transport=websocket").await else {
        return;
    };
    let frame = json_frame(&tiny_jpeg(), i as u64);
    let room = format!("io{}", i % 5);
    let _ = hardening::next_text(&mut io).await;
    if point >= 1 {
        let _ = io.send(Message::Text("40{}".into())).await;
    }
    if point >= 2 {
        let _ = hardening::next_text(&mut io).await;
    }
    match point {
        3 => drop(io.send(sio_emit("frame", &frame)).await),
        4 => {
            let join = serde_json::json!({"room": room, "role": "camera", "token": TOKEN});
            let _ = io.send(sio_emit("join", &join)).await;
            let _ = io.send(sio_emit("frame", &frame)).await;
        }
        5 => {
            let join = serde_json::json!({"room": room, "role": "viewer"});
            let _ = io.send(sio_emit("join", &join)).await;
        }
        _ => {}
    }
    if i.is_multiple_of(2) {
        let _ = io.close(None).await;
    } else {
        drop(io);
    }
}

/// Socket.IO over long-polling, by hand, leaving at point `point` of 3.
async fn polling_leaving_at(server: &Server, point: usize, i: usize) {
    let sid = polling_open(server).await;
    match point {
        // Opened, never polled again: the heartbeat ends it.
        0 => {}
        // Connected and closed in one payload.
        1 => drop(polling_post(server, &sid, "40{}\x1e1").await),
        // Connected, a frame, closed.
        _ => {
            polling_post(server, &sid, "40{}").await;
            let path = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
            let _ = request(server, "GET", &path, &[], b"").await;
            let frame = format!(
                "42{}\x1e1",
                serde_json::json!(["frame", json_frame(&tiny_jpeg(), i as u64)])
            );
            polling_post(server, &sid, &frame).await;
        }
    }
}

/// ffmpeg serving test-pattern MJPEG over HTTP at `port` to one client; killed on drop.
struct MjpegSource(Child);

impl MjpegSource {
    fn start(port: u16) -> MjpegSource {
        let child = Command::new("ffmpeg")
            .args([
                "-v",
                "error",
                "-re",
                "-f",
                "lavfi",
                "-i",
                "testsrc=size=160x120:rate=10",
            ])
            .args(["-c:v", "mjpeg", "-f", "mpjpeg", "-listen", "1"])
            .arg(format!("http://127.0.0.1:{port}/"))
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("ffmpeg");
        MjpegSource(child)
    }
}

impl Drop for MjpegSource {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn churn_leaves_nothing_behind() {
    let config = ServerConfig::default()
        .addr("127.0.0.1:0".parse().unwrap())
        .workers(1)
        .demo(false)
        .rooms(TOKEN, None)
        .max_connections(64, PER_IP)
        .heartbeat(Duration::from_secs(1));
    let server = start(config).await;
    let addr = server.local_addr();

    // A source that gives frames, and one that cannot connect, added and removed.
    let port = free_port();
    let _mjpeg = MjpegSource::start(port);
    let mut view = ws(&server, "/ws/rooms/src/view?frames=1").await.unwrap();
    for (room, url) in [
        ("src", format!("http://127.0.0.1:{port}/")),
        ("gone", format!("http://127.0.0.1:{}/", free_port())),
    ] {
        let path = format!("/rooms/{room}/source?token={TOKEN}");
        let body = serde_json::json!({ "url": url }).to_string();
        let (status, _, answer) = request(&server, "POST", &path, &[], body.as_bytes()).await;
        assert_eq!(status, 201, "{answer}");
    }

    // Plain, camera and viewer sockets leaving at every point, a few at a time.
    let paths = [
        "/ws",
        "/ws/rooms/r{}/camera?token=cam",
        "/ws/rooms/r{}/view",
    ];
    let mut count = 0;
    for round in 0..6 {
        let mut batch = Vec::new();
        for point in 0..7 {
            for (k, path) in paths.iter().enumerate() {
                let path = path.replace("{}", &((round + k) % 3).to_string());
                batch.push(async move { socket_leaving_at(addr, &path, point).await });
                count += 1;
            }
        }
        futures_util::future::join_all(batch).await;
    }
    // Socket.IO by hand, both transports.
    for i in 0..60 {
        socketio_leaving_at(&server, i % 6, i).await;
        polling_leaving_at(&server, i % 3, i).await;
        count += 2;
    }
    // The real client, both transports.
    let image = json_frame(&tiny_jpeg(), 1)["image"]
        .as_str()
        .unwrap()
        .to_string();
    for transport in ["websocket", "polling"] {
        let report = node_socketio(&server, &["churn", "40", transport, "-", &image]).await;
        println!("socket.io-client churn over {transport}: {report}");
        count += 40;
    }
    // The source's viewer saw frames; both sources go.
    let _ = tokio::time::timeout(
        Duration::from_secs(10),
        futures_util::StreamExt::next(&mut view),
    )
    .await;
    drop(view);
    for room in ["src", "gone"] {
        let path = format!("/rooms/{room}/source?token={TOKEN}");
        request(&server, "DELETE", &path, &[], b"").await;
    }
    println!("{count} connections churned");

    let left = settle(&server, None).await;
    let (_, streams) = hardening::get(&server, "/streams").await;
    assert_eq!(
        left,
        Held {
            streams: 0,
            connections: 0.0,
            rooms: 0,
            sources: 0
        },
        "after {count} connections churned: left behind (streams, livepose_connections, rooms, \
         sources); /streams: {streams}"
    );
    // Every per-IP place is back: as many clients as the limit, at once.
    let mut clients = Vec::new();
    for i in 0..PER_IP {
        match ws(&server, "/ws").await {
            Ok(socket) => clients.push(socket),
            Err(e) => panic!("client {i} of {PER_IP} from one IP refused after the churn: {e}"),
        }
    }
    drop(clients);
    // And a normal client is served.
    let mut socket = hardening::sio_ws(&server).await;
    socket.send(Message::Text("40{}".into())).await.unwrap();
    let ack = hardening::next_text(&mut socket).await;
    assert!(
        ack.as_deref().is_some_and(|a| a.starts_with("40{\"sid\"")),
        "{ack:?}"
    );
}
