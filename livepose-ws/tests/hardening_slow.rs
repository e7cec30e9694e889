//! Issue 23, item 6: slow clients do not hold sockets for free. A connection counts against
//! its IP address from the moment it is accepted (a request whose headers never end, an
//! `/estimate_pose` whose body never ends), and the server closes such connections after a
//! header-read timeout and a body timeout (`header_timeout_secs`, `body_timeout_secs`,
//! short here so the tests are quick). Raw TCP; the only bound is a generous one on
//! "eventually closed", never a timing threshold.

mod support;

use support::hardening;

use std::time::Duration;

use hardening::{options, start, ws, EVENTUALLY};
use livepose_ws::ServerConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The start of a WebSocket upgrade request whose headers never end.
const PARTIAL_UPGRADE: &str = "GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n\
                               Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n";

/// An `/estimate_pose` request announcing `length` bytes, and 1000 of them.
async fn slow_post(addr: std::net::SocketAddr, length: u64) -> TcpStream {
    let mut socket = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /estimate_pose HTTP/1.1\r\nHost: localhost\r\nContent-Type: image/jpeg\r\n\
         Content-Length: {length}\r\n\r\n"
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    socket.write_all(&[0xFF; 1000]).await.unwrap();
    socket
}

async fn partial_upgrade(addr: std::net::SocketAddr) -> TcpStream {
    let mut socket = TcpStream::connect(addr).await.unwrap();
    socket.write_all(PARTIAL_UPGRADE.as_bytes()).await.unwrap();
    socket
}

/// Reads until the server closes `socket`: what it sent, or `None` if it is still open
/// after [`EVENTUALLY`].
async fn closed_by_server(socket: &mut TcpStream) -> Option<String> {
    let mut got = Vec::new();
    let read = tokio::time::timeout(EVENTUALLY, socket.read_to_end(&mut got)).await;
    match read {
        Ok(_) => Some(String::from_utf8_lossy(&got).into_owned()),
        Err(_) => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_requests_count_against_their_ip_from_accept() {
    let per_ip = 4;
    let config = ServerConfig::default()
        .addr("127.0.0.1:0".parse().unwrap())
        .workers(1)
        .demo(false)
        .max_connections(64, per_ip);
    let server = start(config).await;
    let addr = server.local_addr();
    // Two requests whose headers never end, two `/estimate_pose` bodies that never end.
    let slow = vec![
        partial_upgrade(addr).await,
        partial_upgrade(addr).await,
        slow_post(addr, 100_000).await,
        slow_post(addr, 100_000).await,
    ];
    tokio::time::sleep(Duration::from_millis(200)).await;
    let fifth = ws(&server, "/ws").await;
    assert!(
        fifth.is_err(),
        "a 5th connection from 127.0.0.1 was admitted while {} slow requests from it were \
         open (max_connections_per_ip {per_ip})",
        slow.len()
    );
    println!("the 5th connection: {}", fifth.err().unwrap());
    // Their places come back when they go.
    drop(slow);
    let deadline = tokio::time::Instant::now() + EVENTUALLY;
    while ws(&server, "/ws").await.is_err() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the slow requests' places never came back"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_whose_headers_never_end_are_closed() {
    let server = start(options(serde_json::json!({"header_timeout_secs": 1}))).await;
    let mut partial = Vec::new();
    for _ in 0..20 {
        partial.push(partial_upgrade(server.local_addr()).await);
    }
    for (i, socket) in partial.iter_mut().enumerate() {
        let answer = closed_by_server(socket).await;
        assert!(
            answer.is_some(),
            "partial request {i} still open after {EVENTUALLY:?} (header timeout 1 s)"
        );
        assert!(
            !answer.unwrap().contains(" 101 "),
            "a partial request was upgraded"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn estimate_pose_bodies_that_never_end_are_cut() {
    let server = start(options(serde_json::json!({"body_timeout_secs": 1}))).await;
    // Announced far over the message limit, and within it: both are cut (413 at once, or
    // 408 after the body timeout), neither held.
    for length in [1_000_000_000, 100_000] {
        let mut socket = slow_post(server.local_addr(), length).await;
        let answer = closed_by_server(&mut socket).await;
        println!("Content-Length {length}: {answer:?}");
        let answer = answer.unwrap_or_else(|| {
            panic!("/estimate_pose with Content-Length {length} and 1000 bytes still open")
        });
        assert!(
            answer.is_empty() || answer.starts_with("HTTP/1.1 4"),
            "Content-Length {length}: {answer}"
        );
    }
}
