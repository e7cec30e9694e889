//! Issue 23, item 4: a node whose NATS has no JetStream (a `nats-server` started without
//! `-js`) must say so, not run as if its camera claims were merely pending: it refuses to
//! start, or stays not ready (`/ready` 503), with words that say to run `nats-server -js`;
//! and two nodes on such a NATS never both take the same room's camera seat.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use livepose_test_support::process::{free_port, Nats};
use livepose_test_support::{data, http};
use tokio_tungstenite::tungstenite::Message;

/// The `livepose` command cargo built for these tests (feature `cli`).
const LIVEPOSE: &str = env!("CARGO_BIN_EXE_livepose");

/// Generous: a node's start on a busy CI machine.
const EVENTUALLY: Duration = Duration::from_secs(30);

/// A `livepose serve --nats` process, its stdout lines and stderr kept. Killed on drop.
struct Node {
    port: u16,
    child: Child,
    stdout: mpsc::Receiver<String>,
    stderr: std::thread::JoinHandle<String>,
}

impl Node {
    fn start(id: &str, nats: &str) -> Node {
        let port = free_port();
        let mut child = Command::new(LIVEPOSE)
            .arg("serve")
            .args(["--port", &port.to_string(), "--models"])
            .arg(data::models())
            .args(["--room-token", "cam", "--no-demo", "--workers", "1"])
            .args(["--nats", nats, "--node-id", id])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, stdout) = mpsc::channel();
        let out = BufReader::new(child.stdout.take().unwrap());
        std::thread::spawn(move || {
            for line in out.lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut err = child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = err.read_to_string(&mut text);
            text
        });
        Node {
            port,
            child,
            stdout,
            stderr,
        }
    }

    /// Waits until it prints its address (`Ok`) or exits (`Err` with its status and stderr).
    fn started(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + EVENTUALLY;
        while Instant::now() < deadline {
            if let Ok(line) = self.stdout.recv_timeout(Duration::from_millis(100)) {
                if line.contains("ws://") {
                    return Ok(());
                }
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                let stderr = std::mem::replace(&mut self.stderr, std::thread::spawn(String::new));
                return Err(format!("{status}: {}", stderr.join().unwrap_or_default()));
            }
        }
        panic!("the node neither started nor exited in {EVENTUALLY:?}");
    }

    /// `GET path`: (status, body).
    fn get(&self, path: &str) -> (u16, String) {
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], self.port));
        let (status, _, body) = http::request_blocking(addr, "GET", path, &[], b"");
        (status, body)
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_node_on_nats_without_jetstream_says_to_run_nats_server_js() {
    let nats = Nats::start_without_jetstream();
    let mut node = Node::start("a", &nats.url());
    match node.started() {
        Err(exit) => assert!(
            exit.contains("nats-server -js"),
            "the node exited without saying to run `nats-server -js`: {exit}"
        ),
        Ok(()) => {
            // Running: never ready, and `/ready` says why.
            let mut answers = Vec::new();
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                answers.push(node.get("/ready"));
                std::thread::sleep(Duration::from_millis(250));
            }
            let ready = answers.iter().filter(|(s, _)| *s == 200).count();
            let (last_status, last_body) = answers.last().cloned().unwrap_or_default();
            assert!(
                ready == 0 && last_status == 503 && last_body.contains("nats-server -js"),
                "on a NATS without JetStream: /ready answered 200 {ready} of {} times; last: \
                 {last_status} {last_body}",
                answers.len()
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_nats_without_jetstream_never_both_take_a_room() {
    let nats = Nats::start_without_jetstream();
    let mut a = Node::start("a", &nats.url());
    let mut b = Node::start("b", &nats.url());
    let mut cameras = Vec::new();
    let mut running = Vec::new();
    for node in [&mut a, &mut b] {
        if node.started().is_err() {
            continue; // a node that refuses to start takes no room
        }
        running.push(node.port);
        let url = format!("ws://127.0.0.1:{}/ws/rooms/dup/camera?token=cam", node.port);
        if let Ok((ws, _)) = tokio_tungstenite::connect_async(url).await {
            cameras.push(ws);
        }
    }
    // Long enough for a claim to be renewed twice (it is renewed every 2 s): a camera told
    // `camera_taken` (or closed) is gone.
    let mut seated = 0;
    for ws in cameras.iter_mut() {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        let mut taken = false;
        while let Ok(Some(message)) = tokio::time::timeout_at(deadline, ws.next()).await {
            match message {
                Ok(Message::Text(text)) if text.contains("camera_taken") => taken = true,
                Ok(Message::Close(_)) | Err(_) => taken = true,
                _ => {}
            }
            if taken {
                break;
            }
        }
        seated += usize::from(!taken);
    }
    // While the cameras are still connected: which nodes list one.
    let listed = [&a, &b]
        .into_iter()
        .filter(|node| running.contains(&node.port))
        .filter(|node| node.get("/rooms/dup").1.contains("\"camera\":{"))
        .count();
    drop(cameras);
    assert!(
        seated <= 1 && listed <= 1,
        "room `dup` on a NATS without JetStream: {seated} cameras kept their seat, {listed} \
         nodes list a camera"
    );
}
