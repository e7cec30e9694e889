//! The browser demo is served by the server: the page at `/`, every module it imports
//! under `/js/`, as JavaScript; unknown modules are 404; `demo(false)` turns it off. (The
//! page itself runs in headless Chromium in `livepose-ws/demo/test/e2e.test.js`.)

mod support;

use livepose_ws::{Server, ServerConfig};
use support::http::http;

async fn server(demo: bool) -> Server {
    let config = ServerConfig::default()
        .addr("127.0.0.1:0".parse().unwrap())
        .workers(1)
        .inference(false)
        .demo(demo);
    Server::start(config).await.unwrap()
}

/// The relative module paths a script imports (`from './x.js'`) or a page loads.
fn references(text: &str) -> Vec<String> {
    text.split(['\'', '"'])
        .filter(|s| s.ends_with(".js") && !s.contains(' '))
        .map(|s| s.trim_start_matches("./").to_string())
        .collect()
}

/// Page `page`, which must load `entry`, and every module it imports, served with their
/// content types; the modules' paths, sorted.
async fn modules_of(server: &Server, page: &str, entry: &str) -> Vec<String> {
    let (status, head, text) = http(server, "GET", page, b"").await;
    assert_eq!(status, 200, "{page}");
    assert!(head.contains("content-type: text/html"), "{head}");
    let mut pending = references(&text);
    assert_eq!(pending, [entry]);
    let mut served = Vec::new();
    while let Some(path) = pending.pop() {
        if served.contains(&path) {
            continue;
        }
        let (status, head, script) = http(server, "GET", &format!("/{path}"), b"").await;
        assert_eq!(status, 200, "{path}");
        assert!(head.contains("content-type: text/javascript"), "{head}");
        pending.extend(references(&script).into_iter().map(|m| format!("js/{m}")));
        served.push(path);
    }
    served.sort();
    served
}

#[tokio::test]
async fn the_pages_and_every_module_they_need_are_served() {
    let server = server(true).await;
    assert_eq!(
        modules_of(&server, "/", "js/app.js").await,
        [
            "js/adapt.js",
            "js/app.js",
            "js/protocol.js",
            "js/skeleton.js",
            "js/stream.js"
        ]
    );
    assert_eq!(
        modules_of(&server, "/viewer", "js/viewer.js").await,
        [
            "js/adapt.js",
            "js/protocol.js",
            "js/rooms.js",
            "js/skeleton.js",
            "js/stream.js",
            "js/viewer.js"
        ]
    );
    let (status, _, body) = http(&server, "GET", "/js/missing.js", b"").await;
    assert_eq!(status, 404);
    assert!(body.contains("missing.js"), "{body}");
    server.shutdown().await;
}

#[tokio::test]
async fn the_demo_can_be_turned_off() {
    let server = server(false).await;
    assert_eq!(http(&server, "GET", "/", b"").await.0, 404);
    assert_eq!(http(&server, "GET", "/js/app.js", b"").await.0, 404);
    assert_eq!(http(&server, "GET", "/health", b"").await.0, 200);
    server.shutdown().await;
}
