//! The example server (`examples/serve.rs`) as a user runs it: it starts on a free port
//! with the shared models, answers `/health` and `/streams`, and exits on Ctrl-C (SIGINT);
//! with a wrong models directory it refuses to start, naming the missing file.

#[path = "support/examples.rs"]
mod examples;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::Stdio;
use std::time::Duration;

fn get(addr: &str, path: &str) -> String {
    let mut socket = TcpStream::connect(addr).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        socket,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    socket.read_to_string(&mut response).unwrap();
    response
}

#[test]
fn serves_health_and_streams_and_stops_on_sigint() {
    // A free port: bind, note, release.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = examples::example("serve")
        .args(["--port", &port.to_string(), "--models"])
        .arg(examples::shared().join("models"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(
        first.contains(&format!("ws://127.0.0.1:{port}/ws")),
        "{first}"
    );
    let addr = format!("127.0.0.1:{port}");
    let health = get(&addr, "/health");
    assert!(
        health.starts_with("HTTP/1.1 200") && health.contains("\"ok\""),
        "{health}"
    );
    let streams = get(&addr, "/streams");
    assert!(streams.contains("\"streams\":[]"), "{streams}");
    let pid = child.id().to_string();
    assert!(std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap()
        .success());
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    assert!(rest.contains("shutting down"), "{rest}");
}

#[test]
fn refuses_to_start_without_models() {
    let output = examples::example("serve")
        .args(["--port", "0", "--models", "/nonexistent"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("pose_detection.onnx"), "{stderr}");
}
