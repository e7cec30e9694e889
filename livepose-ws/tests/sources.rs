//! Server-side camera sources against real local sources and the real models: a looped
//! file, an MJPEG stream served over HTTP by ffmpeg (killed and restarted: the viewers are
//! told `source_lost` and `source_back`), and an RTSP stream (ffmpeg's RTP, served over
//! RTSP by a small relay here: ffmpeg cannot serve RTSP itself). A viewer must get poses from each, and once
//! a source is stopped, or its room removed, no ffmpeg child of the server and no source
//! task may be left.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use futures_util::StreamExt;
use livepose_core::image::Codec;
use livepose_core::wire::{peek_type, FrameView, ImageFormat, MessageType, ResultView};
use livepose_test_support::rtsp::RtspRelay;
use livepose_test_support::{data, frames};
use livepose_ws::{Server, ServerConfig};
use support::http::http;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

/// The tests of this file run one at a time: each counts the ffmpeg children of this
/// process, which is every test's server.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The admin token (`/sources`, `/streams`: closed on a server with rooms but no admin
/// token).
const ADMIN: &str = "adm";
const TOKEN: &str = "room-secret";
/// Generous: inference on a busy CI machine, and ffmpeg's start.
const WAIT: Duration = Duration::from_secs(60);

async fn server(config: ServerConfig) -> Server {
    let config = config
        .addr("127.0.0.1:0".parse().unwrap())
        .workers(1)
        .models_dir(data::models())
        .stats_interval(Duration::from_secs(3600))
        .admin_token(ADMIN);
    Server::start(config).await.unwrap()
}

/// Posted sources may read local files (the clips these tests loop): off by default
/// (issue 23 item 7).
fn local_files(config: ServerConfig) -> ServerConfig {
    config.source_allow(["file:".to_string()])
}

/// A short, small MJPEG clip of the dancer (3 s, 360x640, 10 fps) in `dir`: cheap to
/// serve and to loop.
fn small_clip(dir: &Path) -> PathBuf {
    let out = dir.join("dance.mkv");
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-ss", "0.4", "-i"])
        .arg(data::clip(frames::LAB))
        .args([
            "-t",
            "3",
            "-vf",
            "scale=360:640,fps=10",
            "-an",
            "-c:v",
            "mjpeg",
        ])
        .args(["-q:v", "5"])
        .arg(&out)
        .status()
        .expect("ffmpeg");
    assert!(status.success());
    out
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("livepose-sources-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// ffmpeg serving `clip`, looped, as MJPEG over HTTP (`multipart/x-mixed-replace`) at
/// `http://127.0.0.1:{port}/` to one client.
fn mjpeg_server(clip: &Path, port: u16) -> Child {
    Command::new("ffmpeg")
        .args(["-v", "error", "-re", "-stream_loop", "-1", "-i"])
        .arg(clip)
        .args(["-c:v", "copy", "-f", "mpjpeg", "-listen", "1"])
        .arg(format!("http://127.0.0.1:{port}/"))
        .stdin(Stdio::null())
        .spawn()
        .expect("ffmpeg")
}

/// The ffmpeg processes whose parent is this process (zombies included), but `except`.
fn ffmpeg_children(except: &[u32]) -> Vec<u32> {
    let me = std::process::id();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state ppid ...`; comm may hold spaces and parentheses.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let comm = &stat[open + 1..close];
        let ppid = stat[close + 1..].split_whitespace().nth(1);
        if comm == "ffmpeg" && ppid == Some(&me.to_string()) && !except.contains(&pid) {
            found.push(pid);
        }
    }
    found
}

/// Polls `check` until it holds (or fails after [`WAIT`]).
async fn eventually<F: FnMut() -> Fut, Fut: std::future::Future<Output = bool>>(
    what: &str,
    mut check: F,
) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// No source left: none listed, the gauge at 0, no `src` stream, no ffmpeg child (but
/// `except`).
async fn no_source_left(server: &Server, except: &[u32]) {
    eventually("no ffmpeg child left", || async {
        ffmpeg_children(except).is_empty()
    })
    .await;
    let (_, _, sources) = http(server, "GET", &format!("/sources?token={ADMIN}"), b"").await;
    assert_eq!(sources, r#"{"sources":[]}"#);
    assert!(server
        .metrics_text()
        .lines()
        .any(|l| l == "livepose_sources 0"));
    let (_, _, streams) = http(server, "GET", &format!("/streams?token={ADMIN}"), b"").await;
    assert!(!streams.contains("\"src"), "{streams}");
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn viewer(server: &Server, room: &str) -> Socket {
    let url = format!("ws://{}/ws/rooms/{room}/view?frames=1", server.local_addr());
    tokio_tungstenite::connect_async(url).await.unwrap().0
}

/// What a viewer gets.
#[derive(Debug)]
enum Seen {
    /// A result with this many poses.
    Result(usize),
    /// A camera's frame, in this format.
    Frame(ImageFormat),
    /// A control message's `type`.
    Control(String),
    Closed,
}

async fn next(socket: &mut Socket) -> Seen {
    loop {
        let message = tokio::time::timeout(WAIT, socket.next())
            .await
            .expect("a message in time");
        return match message {
            Some(Ok(Message::Binary(bytes))) => match peek_type(&bytes).unwrap() {
                MessageType::Result => {
                    Seen::Result(ResultView::parse(&bytes).unwrap().pose_count())
                }
                MessageType::Frame => Seen::Frame(FrameView::parse(&bytes).unwrap().header.format),
            },
            Some(Ok(Message::Text(text))) => {
                let json: serde_json::Value = serde_json::from_str(text.as_str()).unwrap();
                Seen::Control(json["type"].as_str().unwrap().to_string())
            }
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => Seen::Closed,
            Some(Ok(_)) => continue,
        };
    }
}

/// Reads until a result with a person in it (and a frame passed through); panics on a close.
/// Returns the format of the last frame seen.
async fn until_a_pose(socket: &mut Socket) -> ImageFormat {
    let (mut pose, mut frame) = (false, None);
    while !(pose && frame.is_some()) {
        match next(socket).await {
            Seen::Result(n) => pose |= n >= 1,
            Seen::Frame(format) => frame = Some(format),
            Seen::Control(_) => {}
            Seen::Closed => panic!("the viewer was closed"),
        }
    }
    frame.expect("a frame")
}

/// Reads until control message `kind`; returns it.
async fn until_control(socket: &mut Socket, kind: &str) -> serde_json::Value {
    loop {
        let message = tokio::time::timeout(WAIT, socket.next())
            .await
            .expect("a message in time");
        match message {
            Some(Ok(Message::Text(text))) => {
                let json: serde_json::Value = serde_json::from_str(text.as_str()).unwrap();
                if json["type"] == kind {
                    return json;
                }
            }
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => panic!("closed before {kind}"),
            Some(Ok(_)) => {}
        }
    }
}

async fn post_source(server: &Server, room: &str, body: &str) -> (u16, String) {
    let path = format!("/rooms/{room}/source?token={TOKEN}");
    let (status, _, body) = http(server, "POST", &path, body.as_bytes()).await;
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_looped_file_feeds_a_room_until_the_room_is_removed() {
    let _serial = SERIAL.lock().await;
    let clip = small_clip(&temp_dir("file"));
    let server = server(local_files(ServerConfig::default().rooms(TOKEN, None))).await;
    let mut view = viewer(&server, "hall").await;
    let body = serde_json::json!({ "url": clip }).to_string();
    let (status, answer) = post_source(&server, "hall", &body).await;
    assert_eq!(status, 201, "{answer}");
    let answer: serde_json::Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(answer["kind"], "file");
    // The clip is 3 s: a pose after it looped too.
    until_a_pose(&mut view).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    until_a_pose(&mut view).await;
    let (_, _, streams) = http(&server, "GET", &format!("/streams?token={ADMIN}"), b"").await;
    assert!(streams.contains("\"src"), "{streams}");
    assert_eq!(ffmpeg_children(&[]).len(), 1);
    // The room's figures name the source as its camera, with its kind.
    let (_, _, figures) = http(&server, "GET", "/rooms/hall", b"").await;
    let figures: serde_json::Value = serde_json::from_str(&figures).unwrap();
    assert_eq!(figures["camera"]["kind"], "source", "{figures}");
    assert_eq!(figures["camera"]["source"]["kind"], "file", "{figures}");
    assert!(figures["camera"]["stream_id"]
        .as_str()
        .unwrap()
        .starts_with("src"));
    assert!(figures["results_total"].as_u64().unwrap() > 0, "{figures}");
    // A second source, or a camera socket, is refused while it runs.
    assert_eq!(post_source(&server, "hall", &body).await.0, 409);
    let camera = format!(
        "ws://{}/ws/rooms/hall/camera?token={TOKEN}",
        server.local_addr()
    );
    let (mut camera, _) = tokio_tungstenite::connect_async(camera).await.unwrap();
    assert!(matches!(next(&mut camera).await, Seen::Control(k) if k == "error"));

    let path = format!("/rooms/hall?token={TOKEN}");
    assert_eq!(http(&server, "DELETE", &path, b"").await.0, 204);
    // The viewer is closed with the room.
    loop {
        if let Seen::Closed = next(&mut view).await {
            break;
        }
    }
    no_source_left(&server, &[]).await;
    assert_eq!(http(&server, "DELETE", &path, b"").await.0, 404);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mjpeg_stream_is_lost_and_back_and_leaves_nothing_behind() {
    let _serial = SERIAL.lock().await;
    let clip = small_clip(&temp_dir("mjpeg"));
    let port = free_port();
    let mut camera = mjpeg_server(&clip, port);
    // Configured as `--source door=URL` is: started with the server.
    let config = ServerConfig::default()
        .rooms(TOKEN, None)
        .source("door", format!("http://127.0.0.1:{port}/"));
    let server = server(config).await;
    let mut view = viewer(&server, "door").await;
    until_a_pose(&mut view).await;

    // The camera goes away: the viewers are told, and told again when it is back.
    camera.kill().unwrap();
    camera.wait().unwrap();
    let lost = until_control(&mut view, "source_lost").await;
    let url = format!("http://127.0.0.1:{port}/");
    assert_eq!(
        (lost["room"].as_str(), lost["url"].as_str()),
        (Some("door"), Some(url.as_str()))
    );
    assert!(lost["retry_in_ms"].as_u64().unwrap() > 0, "{lost}");
    let mut camera = mjpeg_server(&clip, port);
    let back = until_control(&mut view, "source_back").await;
    assert_eq!(back["url"].as_str(), Some(url.as_str()));
    until_a_pose(&mut view).await;

    // The camera dies for good and its room is removed: nothing is left.
    camera.kill().unwrap();
    camera.wait().unwrap();
    until_control(&mut view, "source_lost").await;
    let path = format!("/rooms/door?token={TOKEN}");
    assert_eq!(http(&server, "DELETE", &path, b"").await.0, 204);
    no_source_left(&server, &[]).await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_can_stop_with_its_last_viewer_and_requests_are_checked() {
    let _serial = SERIAL.lock().await;
    let clip = small_clip(&temp_dir("checks"));
    let off = server(ServerConfig::default()).await;
    assert_eq!(post_source(&off, "a", r#"{"url":"/x"}"#).await.0, 403);
    off.shutdown().await;

    let server = server(local_files(ServerConfig::default().rooms(TOKEN, None))).await;
    let url = clip.to_string_lossy().to_string();
    let (status, _, _) = http(&server, "POST", "/rooms/a/source", b"{}").await;
    assert_eq!(status, 401, "no token");
    for (body, why) in [
        ("not json", "JSON"),
        (r#"{"url":"ftp://cam/x"}"#, "unsupported source scheme"),
        (r#"{"url":"/no/such/clip.mp4"}"#, "does not exist"),
        (r#"{"url":"-i"}"#, "begins with `-`"),
        (r#"{"url":"/x","extra":1}"#, "unknown field"),
    ] {
        let (status, answer) = post_source(&server, "a", body).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert!(answer.contains(why), "{body}: {answer}");
    }
    let path = format!("/rooms/a/source?token={TOKEN}");
    assert_eq!(http(&server, "DELETE", &path, b"").await.0, 404);

    // Stopped by DELETE.
    let body = serde_json::json!({ "url": url }).to_string();
    assert_eq!(post_source(&server, "a", &body).await.0, 201);
    eventually("ffmpeg started", || async {
        ffmpeg_children(&[]).len() == 1
    })
    .await;
    assert_eq!(http(&server, "DELETE", &path, b"").await.0, 204);
    no_source_left(&server, &[]).await;

    // Stopped when its last viewer leaves.
    let body = serde_json::json!({ "url": url, "stop_when_unwatched": true }).to_string();
    let (status, answer) = post_source(&server, "a", &body).await;
    assert_eq!(status, 201, "{answer}");
    assert!(answer.contains(r#""stop_when_unwatched":true"#), "{answer}");
    let mut view = viewer(&server, "a").await;
    until_a_pose(&mut view).await;
    view.close(None).await.unwrap();
    no_source_left(&server, &[]).await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_source_is_lost() {
    let _serial = SERIAL.lock().await;
    // An "MJPEG camera" that answers and then sends nothing.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/stream", listener.local_addr().unwrap());
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((mut socket, _)) = listener.accept().await {
            let head = "HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace; \
                        boundary=frame\r\n\r\n--frame\r\n";
            let _ = socket.write_all(head.as_bytes()).await;
            held.push(socket);
        }
    });
    let server = server(ServerConfig::default().rooms(TOKEN, None)).await;
    let mut view = viewer(&server, "attic").await;
    let body = serde_json::json!({ "url": url }).to_string();
    assert_eq!(post_source(&server, "attic", &body).await.0, 201);
    let lost = until_control(&mut view, "source_lost").await;
    assert!(
        lost["reason"]
            .as_str()
            .unwrap()
            .contains("no frame for 10 s"),
        "{lost}"
    );
    let path = format!("/rooms/attic?token={TOKEN}");
    assert_eq!(http(&server, "DELETE", &path, b"").await.0, 204);
    no_source_left(&server, &[]).await;
    silent.abort();
    server.shutdown().await;
}

#[tokio::test]
async fn removing_a_room_closes_its_camera_socket_and_viewers() {
    let config = ServerConfig::default()
        .addr("127.0.0.1:0".parse().unwrap())
        .inference(false)
        .rooms(TOKEN, None);
    let server = Server::start(config).await.unwrap();
    let camera_url = format!(
        "ws://{}/ws/rooms/lab/camera?token={TOKEN}",
        server.local_addr()
    );
    let (mut camera, _) = tokio_tungstenite::connect_async(&camera_url).await.unwrap();
    let mut view = viewer(&server, "lab").await;
    let path = format!("/rooms/lab?token={TOKEN}");
    assert_eq!(http(&server, "DELETE", "/rooms/lab", b"").await.0, 401);
    assert_eq!(http(&server, "DELETE", &path, b"").await.0, 204);
    assert!(matches!(next(&mut view).await, Seen::Closed));
    assert!(matches!(next(&mut camera).await, Seen::Closed));
    // The name is free again: a new camera publishes there.
    let (mut again, _) = tokio_tungstenite::connect_async(&camera_url).await.unwrap();
    let mut frame = Vec::new();
    livepose_core::wire::FrameHeader::new(
        1,
        0,
        livepose_core::wire::ImageFormat::Encoded(livepose_core::image::Codec::Jpeg),
    )
    .encode_with_payload(&[0xFF, 0xD8, 0xFF, 0xD9], &mut frame)
    .unwrap();
    futures_util::SinkExt::send(&mut again, Message::Binary(frame.into()))
        .await
        .unwrap();
    assert!(matches!(next(&mut again).await, Seen::Result(0)));
    server.shutdown().await;
}

#[tokio::test]
async fn a_configured_source_needs_rooms() {
    let config = ServerConfig::default()
        .addr("127.0.0.1:0".parse().unwrap())
        .inference(false)
        .source("door", "http://127.0.0.1:9/");
    let error = Server::start(config).await.unwrap_err().to_string();
    assert!(error.contains("room token"), "{error}");
}

/// MPEG-4 Part 2 video: not H.264, so a source re-encodes it to JPEG.
const MPEG4: &[&str] = &["-c:v", "mpeg4", "-q:v", "5"];
/// H.264 as cameras send it (no B-frames, a keyframe every second at the clip's 10 fps).
const H264: &[&str] = &[
    "-c:v",
    "libx264",
    "-preset",
    "ultrafast",
    "-tune",
    "zerolatency",
    "-g",
    "10",
    "-bf",
    "0",
    "-pix_fmt",
    "yuv420p",
];

/// An RTSP camera sending with `codec` (in a temporary folder named `name`), posted as
/// room `yard`'s source on a server made from `config`, and a viewer of the room's frames
/// that has seen a pose: the format of the frames it got.
async fn rtsp_room(
    name: &str,
    codec: &[&str],
    config: ServerConfig,
) -> (RtspRelay, Server, Socket, ImageFormat) {
    let dir = temp_dir(name);
    let clip = small_clip(&dir);
    let camera = RtspRelay::start(&clip, &dir, codec).await;
    let server = server(config.rooms(TOKEN, None)).await;
    let mut view = viewer(&server, "yard").await;
    let body = serde_json::json!({ "url": camera.url }).to_string();
    let (status, answer) = post_source(&server, "yard", &body).await;
    assert_eq!(status, 201, "{answer}");
    assert!(answer.contains(r#""kind":"rtsp""#), "{answer}");
    let format = until_a_pose(&mut view).await;
    (camera, server, view, format)
}

/// Removes room `yard`'s source: nothing of it is left (its ffmpeg, its stream).
async fn remove_rtsp_source(server: Server, camera: RtspRelay) {
    let path = format!("/rooms/yard/source?token={TOKEN}");
    assert_eq!(http(&server, "DELETE", &path, b"").await.0, 204);
    no_source_left(&server, &[camera.id()]).await;
    drop(camera);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_rtsp_stream_feeds_a_room() {
    let _serial = SERIAL.lock().await;
    let (camera, server, _view, format) = rtsp_room("rtsp", MPEG4, ServerConfig::default()).await;
    // Not H.264: re-encoded to JPEG.
    assert_eq!(format, ImageFormat::Encoded(Codec::Jpeg));
    remove_rtsp_source(server, camera).await;
}

/// An RTSP camera's H.264 passes through (issue 24, item 4): ffmpeg copies the access
/// units and the server decodes them, so the room's frame viewers get format-6 frames, the
/// camera's own, and the results have a person in them; the stream's `/streams` entry and
/// ffmpeg go when the source is removed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_h264_rtsp_stream_passes_through_without_reencoding() {
    let _serial = SERIAL.lock().await;
    let (camera, server, mut view, format) =
        rtsp_room("rtsp-h264", H264, ServerConfig::default()).await;
    assert_eq!(format, ImageFormat::Encoded(Codec::H264));
    // Every frame the viewer gets from now on is the camera's H.264, keyframes flagged.
    let mut keyframes = 0;
    for _ in 0..40 {
        let message = tokio::time::timeout(WAIT, view.next()).await.unwrap();
        if let Some(Ok(Message::Binary(bytes))) = message {
            if matches!(peek_type(&bytes), Ok(MessageType::Frame)) {
                let frame = FrameView::parse(&bytes).unwrap();
                assert_eq!(frame.header.format, ImageFormat::Encoded(Codec::H264));
                let info = livepose_core::video::scan_access_unit(frame.payload).unwrap();
                let flagged = frame
                    .header
                    .flags
                    .contains(livepose_core::wire::FrameFlags::KEYFRAME);
                assert_eq!(flagged, info.keyframe);
                keyframes += usize::from(info.keyframe);
            }
        }
    }
    assert!(keyframes >= 1, "a keyframe a second, 40 messages");
    remove_rtsp_source(server, camera).await;
}

/// `source_reencode` (`--source-reencode`) has ffmpeg re-encode an H.264 camera to JPEG,
/// as before passthrough, for cameras whose H.264 the server's decoder refuses.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_h264_rtsp_stream_is_reencoded_when_the_server_says_so() {
    let _serial = SERIAL.lock().await;
    let config = ServerConfig::default().source_reencode(true);
    let (camera, server, _view, format) = rtsp_room("rtsp-reencode", H264, config).await;
    assert_eq!(format, ImageFormat::Encoded(Codec::Jpeg));
    remove_rtsp_source(server, camera).await;
}

/// Regression (issue 23, item 3): ffmpeg's last words carry the source's URL, and they went
/// unredacted into `source_lost.reason` (and the log): a viewer read
/// `rtsp://admin:s3cret@…: Connection refused`; a password with `#` and a secret in the query
/// (`?pwd=`) were not hidden even in the URL. Nothing a viewer, `/sources`, the room's figures
/// or the answer to the `POST` show may hold the secret.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sources_secrets_never_leave_the_server() {
    let _serial = SERIAL.lock().await;
    let server = server(ServerConfig::default().rooms(TOKEN, None)).await;
    for (room, url, secret) in [
        ("door", "rtsp://admin:s3cret@127.0.0.1:1/x", "s3cret"),
        ("gate", "rtsp://admin:s3#cret@127.0.0.1:1/x", "s3#cret"),
        ("yard", "http://admin:p@ss:w0rd@127.0.0.1:1/x", "p@ss:w0rd"),
        (
            "shed",
            "rtsp://127.0.0.1:1/x?user=admin&pwd=s3cret",
            "s3cret",
        ),
        (
            "hall",
            "http://127.0.0.1:1/mjpg?channel=1&token=t0ken",
            "t0ken",
        ),
    ] {
        let mut view = viewer(&server, room).await;
        let body = serde_json::json!({ "url": url }).to_string();
        let (status, answer) = post_source(&server, room, &body).await;
        assert_eq!(status, 201, "{answer}");
        let lost = until_control(&mut view, "source_lost").await;
        println!("{url}: source_lost {lost}");
        let (_, _, sources) = http(&server, "GET", &format!("/sources?token={ADMIN}"), b"").await;
        let (_, _, figures) = http(&server, "GET", &format!("/rooms/{room}"), b"").await;
        for (what, text) in [
            ("source_lost", lost.to_string()),
            ("the POST's answer", answer),
            ("/sources", sources),
            ("the room's figures", figures),
        ] {
            assert!(
                !text.contains(secret),
                "{url}: {what} shows {secret:?}: {text}"
            );
        }
        // What ffmpeg said is still there, without the secret.
        let reason = lost["reason"].as_str().unwrap();
        assert!(reason.contains("ffmpeg exited"), "{reason}");
        let path = format!("/rooms/{room}?token={TOKEN}");
        assert_eq!(http(&server, "DELETE", &path, b"").await.0, 204);
    }
    no_source_left(&server, &[]).await;
    server.shutdown().await;
}
