//! Raw HTTP/1.1 to a test server (livepose-test-support's `http::request` at its address).

use livepose_test_support::http as raw;
use livepose_ws::Server;

/// A raw HTTP/1.1 request with extra header lines; (status, head in lower case, body), the
/// status 0 when the answer has none.
pub async fn request(
    server: &Server,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String, String) {
    raw::request(server.local_addr(), method, path, headers, body).await
}

/// A raw HTTP/1.1 request without extra headers; (status, head in lower case, body). An
/// answer without a status line fails the test.
pub async fn http(server: &Server, method: &str, path: &str, body: &[u8]) -> (u16, String, String) {
    let (status, head, body) = request(server, method, path, &[], body).await;
    assert_ne!(status, 0, "{method} {path}: no HTTP status in {head:?}");
    (status, head, body)
}
