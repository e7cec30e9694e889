//! Small messages leave at once: the server's accepted sockets and the Rust client's
//! socket have TCP_NODELAY set. Without it, Nagle's algorithm holds a small result until
//! the peer's delayed ACK of the previous one, a one-frame latency step on some
//! connections. Read with getsockopt on the test process's own sockets (server and client
//! both run in it), so no timing is involved.
#![cfg(target_os = "linux")]

use std::mem::ManuallyDrop;
use std::os::fd::FromRawFd;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use livepose_client::{Client, ClientConfig, Event};
use livepose_core::image::Codec;
use livepose_core::wire::{FrameHeader, ImageFormat};
use livepose_ws::{Server, ServerConfig};
use tokio_tungstenite::tungstenite::Message;

/// TCP_NODELAY of every connected TCP socket of this process with an end on `port`:
/// `(server side, nodelay)`, server side meaning the socket's own port is `port`.
fn sockets_on(port: u16) -> Vec<(bool, bool)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc/self/fd").unwrap().flatten() {
        let is_socket = std::fs::read_link(entry.path())
            .is_ok_and(|target| target.to_string_lossy().starts_with("socket:"));
        let Ok(fd) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if !is_socket {
            continue;
        }
        // Borrowed, not owned: ManuallyDrop keeps the descriptor open.
        let socket = ManuallyDrop::new(unsafe { socket2::Socket::from_raw_fd(fd) });
        let local = socket.local_addr().ok().and_then(|a| a.as_socket());
        let peer = socket.peer_addr().ok().and_then(|a| a.as_socket());
        if let (Some(local), Some(peer), Ok(nodelay)) = (local, peer, socket.tcp_nodelay()) {
            if local.port() == port || peer.port() == port {
                found.push((local.port() == port, nodelay));
            }
        }
    }
    found
}

fn frame(sequence: u64) -> Message {
    // With inference off the server answers without decoding the image.
    let header = FrameHeader::new(sequence, 0, ImageFormat::Encoded(Codec::Jpeg));
    let mut bytes = Vec::new();
    header.encode_with_payload(&[1, 2, 3], &mut bytes).unwrap();
    Message::Binary(bytes.into())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_and_client_sockets_have_nodelay() {
    let config = ServerConfig::default()
        .addr("127.0.0.1:0".parse().unwrap())
        .inference(false);
    let server = Server::start(config).await.unwrap();
    let port = server.local_addr().port();

    // A plain tungstenite client leaves Nagle on for its own end: the check can tell.
    let (mut plain, _) = tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}/ws"))
        .await
        .unwrap();
    plain.send(frame(1)).await.unwrap();
    assert!(matches!(plain.next().await, Some(Ok(Message::Binary(_)))));
    let sockets = sockets_on(port);
    assert_eq!(sockets.len(), 2, "{sockets:?}");
    assert!(sockets.contains(&(true, true)), "server side: {sockets:?}");
    assert!(
        sockets.contains(&(false, false)),
        "plain client: {sockets:?}"
    );
    drop(plain);

    let mut client = Client::start(ClientConfig::new(format!("ws://127.0.0.1:{port}/ws")));
    client.send_jpeg(vec![1, 2, 3], 0);
    let answered = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(event) = client.next_event().await {
            if matches!(event, Event::Result(_)) {
                return true;
            }
        }
        false
    })
    .await
    .unwrap();
    assert!(answered);
    let sockets = sockets_on(port);
    // The server may not have closed the plain client's socket yet: look at live ones.
    assert!(
        sockets.contains(&(false, true)),
        "livepose client: {sockets:?}"
    );
    assert!(
        sockets
            .iter()
            .filter(|(server, _)| *server)
            .all(|(_, nodelay)| *nodelay),
        "{sockets:?}"
    );
    server.shutdown().await;
}
