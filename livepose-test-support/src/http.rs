//! A raw HTTP/1.1 request to a test server, over a real socket (async, or blocking for
//! tests without a runtime).

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long a request waits for the whole answer (generous: a busy CI machine).
pub const EVENTUALLY: Duration = Duration::from_secs(30);

/// `method path` to `addr` with extra header lines and `body`, `Connection: close`; the
/// answer as (status, head in lower case, body). The status is 0 when the answer has no
/// status line; no answer within [`EVENTUALLY`] fails the test.
pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String, String) {
    let mut socket = TcpStream::connect(addr).await.unwrap();
    let head = head(method, path, headers, body.len());
    socket.write_all(head.as_bytes()).await.unwrap();
    socket.write_all(body).await.unwrap();
    let mut response = Vec::new();
    let read = tokio::time::timeout(EVENTUALLY, socket.read_to_end(&mut response)).await;
    assert!(read.is_ok(), "{method} {path}: no answer in {EVENTUALLY:?}");
    parse(&response)
}

/// [`request`] on a blocking socket.
pub fn request_blocking(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String, String) {
    let mut socket = std::net::TcpStream::connect(addr).unwrap();
    socket.set_read_timeout(Some(EVENTUALLY)).unwrap();
    socket
        .write_all(head(method, path, headers, body.len()).as_bytes())
        .unwrap();
    socket.write_all(body).unwrap();
    let mut response = Vec::new();
    if let Err(e) = socket.read_to_end(&mut response) {
        panic!("{method} {path}: {e} (no answer in {EVENTUALLY:?}?)");
    }
    parse(&response)
}

/// The request's head: `Host: localhost`, `Content-Length`, `Connection: close`, `headers`.
fn head(method: &str, path: &str, headers: &[(&str, &str)], length: usize) -> String {
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: {length}\r\nConnection: close\r\n"
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    head
}

/// (status, head in lower case, body) of an answer; status 0 without a status line.
fn parse(response: &[u8]) -> (u16, String, String) {
    let text = String::from_utf8_lossy(response).to_string();
    let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (status, head.to_ascii_lowercase(), body.to_string())
}
