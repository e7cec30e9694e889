//! What the hardening tests (issue 23) share: a server from `ServeOptions` JSON (so that a
//! test can name an option the server does not have yet and fail on it by name), raw HTTP
//! with headers, Socket.IO spoken by hand over WebSocket and long-polling, a small JPEG,
//! the Node Socket.IO client (socket.io-client from livepose-ws/demo), and "everything is
//! back to zero" checks with a generous bound (never a timing threshold).

use std::path::PathBuf;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use livepose_core::options::parse_options;
use livepose_ws::{ServeOptions, Server, ServerConfig};
use tokio_tungstenite::tungstenite::Message;

/// How long a test waits for something that must happen (generous: a busy CI machine).
pub use livepose_test_support::http::EVENTUALLY;

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A server configuration from `ServeOptions` fields as JSON (port 0 on loopback, no demo,
/// one worker unless `json` says otherwise). An option this server does not know fails the
/// test with the serde error that names it.
pub fn options(json: serde_json::Value) -> ServerConfig {
    let mut map = serde_json::json!({"host": "127.0.0.1", "port": 0, "demo": false, "workers": 1});
    for (k, v) in json.as_object().expect("an object of options") {
        map[k] = v.clone();
    }
    let options: ServeOptions =
        parse_options(map.clone()).unwrap_or_else(|e| panic!("ServeOptions {map} refused: {e}"));
    options
        .config()
        .unwrap_or_else(|e| panic!("ServeOptions {map} refused: {e}"))
}

/// Starts a server with `config`, the transport alone (no models), stats once an hour.
pub async fn start(config: ServerConfig) -> Server {
    Server::start(
        config
            .inference(false)
            .stats_interval(Duration::from_secs(3600)),
    )
    .await
    .unwrap()
}

pub use super::http::request;

/// `GET path` with no headers: (status, body).
pub async fn get(server: &Server, path: &str) -> (u16, String) {
    let (status, _, body) = request(server, "GET", path, &[], b"").await;
    (status, body)
}

/// The value of the un-labelled metric `name` in `/metrics` (the server's own text).
pub fn metric(server: &Server, name: &str) -> f64 {
    server
        .metrics_text()
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} not in /metrics"))
}

/// What the server holds now: streams listed, `livepose_connections`, rooms, sources.
#[derive(Debug, PartialEq)]
pub struct Held {
    pub streams: usize,
    pub connections: f64,
    pub rooms: usize,
    pub sources: usize,
}

impl Held {
    pub fn is_zero(&self) -> bool {
        self.streams == 0 && self.connections == 0.0 && self.rooms == 0 && self.sources == 0
    }
}

/// What `server` holds now (streams, connections and sources from the server itself,
/// `/rooms` when it answers; `token` as a bearer header where one is needed).
pub async fn held(server: &Server, token: Option<&str>) -> Held {
    let bearer = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = bearer
        .iter()
        .map(|b| ("Authorization", b.as_str()))
        .collect();
    let count = |body: &str, key: &str| {
        serde_json::from_str::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v[key].as_array().map(Vec::len))
            .unwrap_or(0)
    };
    let (_, _, rooms) = request(server, "GET", "/rooms", &headers, b"").await;
    Held {
        streams: server.stream_count(),
        connections: metric(server, "livepose_connections"),
        rooms: count(&rooms, "rooms"),
        // From the server's own metrics: `/sources` needs the admin token.
        sources: metric(server, "livepose_sources") as usize,
    }
}

/// Waits (up to [`EVENTUALLY`]) until the server holds nothing; what it held last.
pub async fn settle(server: &Server, token: Option<&str>) -> Held {
    let deadline = tokio::time::Instant::now() + EVENTUALLY;
    loop {
        let now = held(server, token).await;
        if now.is_zero() || tokio::time::Instant::now() > deadline {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A 32x24 grey JPEG (livepose-core's encoder).
pub fn tiny_jpeg() -> Vec<u8> {
    jpeg(32, 24)
}

/// A `width`x`height` JPEG of a gradient.
pub fn jpeg(width: u32, height: u32) -> Vec<u8> {
    use livepose_core::image::{encode_jpeg, RgbImage};
    let data = (0..width * height * 3).map(|i| (i % 251) as u8).collect();
    let image = RgbImage::from_rgb8(width, height, data).unwrap();
    let mut out = Vec::new();
    encode_jpeg(image.view(), 80, &mut out).unwrap();
    out
}

/// A frame as existing clients send it (`{"image": "data:image/jpeg;base64,…",
/// "timestamp", "sequence"}`, livepose-core's compat encoder): a Socket.IO `frame` event's
/// data, or a `/ws` text message.
pub fn json_frame(jpeg: &[u8], sequence: u64) -> serde_json::Value {
    let mut text = String::new();
    livepose_core::wire::compat::encode_frame(
        jpeg,
        livepose_core::image::Codec::Jpeg,
        0.0,
        sequence,
        &mut text,
    );
    serde_json::from_str(&text).unwrap()
}

/// A WebSocket to `path` on `server`.
pub async fn ws(server: &Server, path: &str) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
    let url = format!("ws://{}{path}", server.local_addr());
    tokio_tungstenite::connect_async(url)
        .await
        .map(|(ws, _)| ws)
}

/// Socket.IO over WebSocket, by hand: opened, the Engine.IO open packet read.
pub async fn sio_ws(server: &Server) -> Ws {
    let mut ws = ws(server, "/socket.io/?EIO=4&transport=websocket")
        .await
        .expect("the Socket.IO WebSocket opens");
    let open = next_text(&mut ws).await.expect("the Engine.IO open packet");
    assert!(open.starts_with("0{"), "{open}");
    ws
}

/// The next text message (Engine.IO pings answered), or `None` if the socket ends or
/// none comes within [`EVENTUALLY`].
pub async fn next_text(ws: &mut Ws) -> Option<String> {
    let deadline = tokio::time::Instant::now() + EVENTUALLY;
    loop {
        let message = tokio::time::timeout_at(deadline, ws.next()).await.ok()??;
        match message.ok()? {
            Message::Text(text) if text.as_str() == "2" => {
                ws.send(Message::Text("3".into())).await.ok()?;
            }
            Message::Text(text) => return Some(text.to_string()),
            Message::Close(_) => return None,
            _ => {}
        }
    }
}

/// Reads Socket.IO packets until an event named `event` (`42["event",…]`); its data, or
/// `None` if the socket ends or the event does not come within `within`.
pub async fn sio_event(ws: &mut Ws, event: &str, within: Duration) -> Option<serde_json::Value> {
    let prefix = format!("42[\"{event}\"");
    tokio::time::timeout(within, async {
        loop {
            let text = next_text(ws).await?;
            if text.starts_with(&prefix) {
                let array: serde_json::Value = serde_json::from_str(&text[2..]).ok()?;
                return Some(array[1].clone());
            }
        }
    })
    .await
    .ok()
    .flatten()
}

/// A Socket.IO event packet `42["name",data]`.
pub fn sio_emit(name: &str, data: &serde_json::Value) -> Message {
    Message::Text(format!("42{}", serde_json::json!([name, data])).into())
}

/// Engine.IO long-polling, by hand: a new session's id.
pub async fn polling_open(server: &Server) -> String {
    let (status, _, body) = request(
        server,
        "GET",
        "/socket.io/?EIO=4&transport=polling",
        &[],
        b"",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let handshake: serde_json::Value =
        serde_json::from_str(body.strip_prefix('0').unwrap_or(&body)).expect("open packet");
    handshake["sid"].as_str().unwrap().to_string()
}

/// POSTs an Engine.IO payload on polling session `sid`; the status.
pub async fn polling_post(server: &Server, sid: &str, payload: &str) -> u16 {
    let path = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    request(server, "POST", &path, &[], payload.as_bytes())
        .await
        .0
}

/// The livepose-ws/demo folder, whose `npm ci` installs socket.io-client.
pub fn demo_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("demo")
}

/// Runs `tests/clients/socketio.mjs` with Node (socket.io-client, the real client front
/// ends use) against `server`; its JSON report.
pub async fn node_socketio(server: &Server, args: &[&str]) -> serde_json::Value {
    let client = demo_dir().join("node_modules/socket.io-client/package.json");
    assert!(
        client.is_file(),
        "socket.io-client not installed: npm ci in livepose-ws/demo (scripts/setup.sh does)"
    );
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/clients/socketio.mjs");
    let url = format!("http://{}", server.local_addr());
    let out = tokio::process::Command::new("node")
        .arg(script)
        .arg(url)
        .args(args)
        .env("LIVEPOSE_DEMO_DIR", demo_dir())
        .output();
    let out = tokio::time::timeout(Duration::from_secs(120), out)
        .await
        .expect("the Node client finishes")
        .expect("node (Node.js) on PATH");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "node socketio.mjs {args:?}: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.lines().last().unwrap_or(""))
        .unwrap_or_else(|e| panic!("node socketio.mjs {args:?} printed no JSON ({e}): {stdout}"))
}
