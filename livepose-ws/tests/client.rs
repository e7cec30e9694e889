//! The Rust client against the real server: hello and welcome, results for its frames,
//! and reconnection when the server goes away and comes back on the same port.

#[path = "support/media.rs"]
mod media;

use std::net::SocketAddr;
use std::time::Duration;

use livepose_core::wire::control::ServerMessage;
use livepose_ws::client::{Client, ClientConfig, Event};
use livepose_ws::{Server, ServerConfig};
use media::{dance_jpeg, models};

fn jpeg() -> Vec<u8> {
    dance_jpeg(35)
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
