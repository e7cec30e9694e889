//! Issue 23, item 7: server-side sources are bounded. At most `max_sources` run (16 by
//! default; the next `POST` is refused, saying so); a source posted over HTTP may not read
//! the server's own files unless `source_allow` lists `file:`, and with `source_allow` set
//! only the listed hosts and schemes are fetched; `https://` sources verify the server's
//! certificate (a self-signed one is refused, naming the certificate) unless
//! `source_tls_insecure` is set or `source_ca_file` trusts it. ffmpeg serves the sources
//! (MJPEG over HTTP and HTTPS, `testsrc` frames: no clip needed).

mod support;

use support::hardening;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use futures_util::StreamExt;
use hardening::{options, request, start, ws, Ws, EVENTUALLY};
use livepose_core::wire::{peek_type, MessageType};
use livepose_ws::{Server, ServerConfig};
use tokio_tungstenite::tungstenite::Message;

const TOKEN: &str = "cam";

/// The tests of this file run one at a time (each starts ffmpeg processes).
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn tls_file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/tls")
        .join(name)
}

/// ffmpeg serving test-pattern MJPEG at `https://127.0.0.1:{port}/` with the self-signed
/// certificate of tests/data/tls, to one client. Killed on drop.
struct HttpsSource(Child);

impl HttpsSource {
    fn start(port: u16) -> HttpsSource {
        let child = Command::new("ffmpeg")
            .args(["-v", "error", "-re", "-f", "lavfi", "-i"])
            .arg("testsrc=size=160x120:rate=10")
            .args([
                "-c:v",
                "mjpeg",
                "-f",
                "mpjpeg",
                "-listen",
                "1",
                "-cert_file",
            ])
            .arg(tls_file("cert.pem"))
            .arg("-key_file")
            .arg(tls_file("key.pem"))
            .arg(format!("https://127.0.0.1:{port}/"))
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("ffmpeg");
        // Listening once the port takes connections... but a probe would be its one client:
        // give it a moment instead (the server retries a source that is not up yet).
        std::thread::sleep(Duration::from_millis(500));
        HttpsSource(child)
    }
}

impl Drop for HttpsSource {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn post_source(server: &Server, room: &str, url: &str) -> (u16, String) {
    let path = format!("/rooms/{room}/source?token={TOKEN}");
    let body = serde_json::json!({ "url": url }).to_string();
    let (status, _, body) = request(server, "POST", &path, &[], body.as_bytes()).await;
    (status, body)
}

async fn delete_source(server: &Server, room: &str) {
    let path = format!("/rooms/{room}/source?token={TOKEN}");
    request(server, "DELETE", &path, &[], b"").await;
}

/// What a viewer of a source's room sees first: a frame (the source works) or a
/// `source_lost` (its reason).
#[derive(Debug)]
enum First {
    Frame,
    Lost(String),
    Nothing,
}

async fn first_seen(view: &mut Ws) -> First {
    let deadline = tokio::time::Instant::now() + EVENTUALLY;
    while let Ok(Some(Ok(message))) = tokio::time::timeout_at(deadline, view.next()).await {
        match message {
            Message::Binary(bytes) if peek_type(&bytes).ok() == Some(MessageType::Frame) => {
                return First::Frame
            }
            Message::Text(text) => {
                let json: serde_json::Value = serde_json::from_str(text.as_str()).unwrap();
                if json["type"] == "source_lost" {
                    return First::Lost(json["reason"].as_str().unwrap_or("").to_string());
                }
            }
            _ => {}
        }
    }
    First::Nothing
}

/// A self-signed `https://` source on a server configured by `config`: what its room's
/// viewer sees first.
async fn self_signed_source(config: ServerConfig) -> First {
    let server = start(config).await;
    let port = free_port();
    let _source = HttpsSource::start(port);
    let mut view = ws(&server, "/ws/rooms/tls/view?frames=1").await.unwrap();
    let (status, body) = post_source(&server, "tls", &format!("https://127.0.0.1:{port}/")).await;
    assert_eq!(status, 201, "{body}");
    let first = first_seen(&mut view).await;
    server.shutdown().await;
    first
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sources_are_capped_by_max_sources() {
    let _serial = SERIAL.lock().await;
    // The default cap (16); the sources point at a closed port (ffmpeg fails and retries).
    let config = ServerConfig::default()
        .addr("127.0.0.1:0".parse().unwrap())
        .demo(false)
        .rooms(TOKEN, None);
    let server = start(config).await;
    let closed = format!("http://127.0.0.1:{}/", free_port());
    let mut statuses = Vec::new();
    for i in 0..17 {
        statuses.push(post_source(&server, &format!("s{i}"), &closed).await);
    }
    let running = hardening::metric(&server, "livepose_sources");
    for i in 0..17 {
        delete_source(&server, &format!("s{i}")).await;
    }
    server.shutdown().await;
    let created = statuses.iter().filter(|(s, _)| *s == 201).count();
    let (last, why) = statuses.last().unwrap().clone();
    assert_eq!(
        (created, last),
        (16, 429),
        "17 POSTs: {created} sources created, the 17th answered {last} {why:?}; {running} \
         running"
    );
    assert!(
        why.contains("max_sources"),
        "the refusal names the limit: {why}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_posted_local_file_is_refused_unless_allowed() {
    let _serial = SERIAL.lock().await;
    let config = ServerConfig::default()
        .addr("127.0.0.1:0".parse().unwrap())
        .demo(false)
        .rooms(TOKEN, None);
    let server = start(config).await;
    let file = tls_file("cert.pem");
    let path = file.to_str().unwrap().to_string();
    let (status, body) = post_source(&server, "f", &path).await;
    delete_source(&server, "f").await;
    let (status_url, body_url) = post_source(&server, "g", &format!("file://{path}")).await;
    delete_source(&server, "g").await;
    // Whether a file exists is not told either.
    let (status_missing, body_missing) = post_source(&server, "h", "/no/such/file.mp4").await;
    server.shutdown().await;
    assert_eq!(
        (status, status_url),
        (403, 403),
        "a local file posted as a source: {body:?} / {body_url:?}"
    );
    assert_eq!(status_missing, 403, "{body_missing}");
    assert!(
        body.contains("source_allow"),
        "the refusal names the option: {body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn source_allow_admits_only_listed_hosts_and_schemes() {
    let _serial = SERIAL.lock().await;
    let config = options(serde_json::json!({
        "room_token": TOKEN,
        "source_allow": ["127.0.0.1", "rtsp:", "file:"],
    }));
    let server = start(config).await;
    let port = free_port();
    let file = tls_file("cert.pem").to_str().unwrap().to_string();
    let cases = [
        (format!("http://127.0.0.1:{port}/"), 201),
        (format!("http://127.0.0.2:{port}/"), 403),
        (format!("https://localhost:{port}/"), 403),
        ("rtsp://127.0.0.3:9/live".to_string(), 201),
        (format!("file://{file}"), 201),
    ];
    let mut wrong = Vec::new();
    for (i, (url, want)) in cases.iter().enumerate() {
        let room = format!("a{i}");
        let (status, body) = post_source(&server, &room, url).await;
        delete_source(&server, &room).await;
        if status != *want {
            wrong.push(format!("{url}: {status} {body}, expected {want}"));
        }
    }
    server.shutdown().await;
    assert!(wrong.is_empty(), "{wrong:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_self_signed_https_source_is_refused_naming_the_certificate() {
    let _serial = SERIAL.lock().await;
    let config = ServerConfig::default()
        .addr("127.0.0.1:0".parse().unwrap())
        .demo(false)
        .rooms(TOKEN, None);
    let first = self_signed_source(config).await;
    match first {
        First::Lost(reason) => assert!(
            reason.to_lowercase().contains("certificate"),
            "the source was lost, but the reason does not name the certificate: {reason}"
        ),
        other => panic!("a self-signed https:// source: the viewer saw {other:?} first"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_self_signed_https_source_is_read_when_trusted_or_checks_are_off() {
    let _serial = SERIAL.lock().await;
    let ca = tls_file("cert.pem").to_str().unwrap().to_string();
    for extra in [
        serde_json::json!({"source_ca_file": ca}),
        serde_json::json!({"source_tls_insecure": true}),
    ] {
        let mut json = serde_json::json!({"room_token": TOKEN});
        json.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let first = self_signed_source(options(json)).await;
        assert!(matches!(first, First::Frame), "{extra}: {first:?}");
    }
}
