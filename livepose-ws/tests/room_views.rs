//! What rooms show beyond results, on real sockets with the real models: the rooms' figures
//! (`GET /rooms`, `GET /rooms/{room}`, with the viewers' `viewer_stats`), annotated frames
//! on a view socket (`?frames=annotated`) and as MJPEG over HTTP, and viewers that leave
//! mid-stream being gone from the room at once.

mod support;

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use livepose_core::image::{Codec, DecoderConfig, ImageDecoder, RgbImage};
use livepose_core::wire::{FrameHeader, ImageFormat, ResultView};
use livepose_test_support::data::models;
use livepose_test_support::frames::{jpeg_frame, LAB};
use livepose_ws::{Server, ServerConfig};
use serde_json::Value;
use support::http::http;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

fn frame(sequence: u64, jpeg: &[u8]) -> Message {
    let mut bytes = Vec::new();
    FrameHeader::new(sequence, 0, ImageFormat::Encoded(Codec::Jpeg))
        .encode_with_payload(jpeg, &mut bytes)
        .unwrap();
    Message::Binary(bytes.into())
}

async fn server(config: ServerConfig) -> Server {
    let config = config
        .addr("127.0.0.1:0".parse().unwrap())
        .workers(1)
        .models_dir(models())
        .stats_interval(Duration::from_secs(3600));
    Server::start(config).await.unwrap()
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(url: String) -> Socket {
    tokio_tungstenite::connect_async(url).await.unwrap().0
}

/// The next binary message (skipping text), within 20 s.
async fn binary(socket: &mut Socket) -> Vec<u8> {
    loop {
        match tokio::time::timeout(Duration::from_secs(20), socket.next()).await {
            Ok(Some(Ok(Message::Binary(bytes)))) => return bytes.to_vec(),
            Ok(Some(Ok(_))) => continue,
            other => panic!("{other:?}"),
        }
    }
}

/// Sends frame `sequence` as the camera and waits for its own result.
async fn publish(camera: &mut Socket, sequence: u64, jpeg: &[u8]) {
    camera.send(frame(sequence, jpeg)).await.unwrap();
    let own = binary(camera).await;
    assert_eq!(ResultView::parse(&own).unwrap().sequence, sequence);
}

async fn get_json(server: &Server, path: &str) -> (u16, Value) {
    let (status, _, body) = http(server, "GET", path, b"").await;
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

/// Polls `GET /rooms/{room}` until `viewers` is `n`; how long that took.
async fn viewers_become(server: &Server, room: &str, n: u64) -> Duration {
    let started = Instant::now();
    loop {
        let (status, figures) = get_json(server, &format!("/rooms/{room}")).await;
        let viewers = if status == 404 {
            0
        } else {
            figures["viewers"].as_u64().unwrap()
        };
        if viewers == n {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "viewers stuck at {viewers}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn decode(jpeg: &[u8]) -> RgbImage {
    let mut image = RgbImage::new();
    ImageDecoder::new(DecoderConfig::default())
        .decode(jpeg, &mut image)
        .unwrap();
    image
}

/// Pixels near the server's bone colour (green, 0 220 120).
fn bone_pixels(image: &RgbImage) -> usize {
    image
        .data()
        .chunks_exact(3)
        .filter(|p| p[0] < 60 && p[1] > 180 && p[2] > 70 && p[2] < 170)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn room_figures_show_the_camera_the_viewers_and_their_reports() {
    let server = server(ServerConfig::default().rooms("cam", None)).await;
    let base = format!("ws://{}/ws/rooms/lab", server.local_addr());
    let (status, empty) = get_json(&server, "/rooms").await;
    assert_eq!((status, empty), (200, serde_json::json!({"rooms": []})));
    assert_eq!(get_json(&server, "/rooms/lab").await.0, 404);

    let mut viewer = connect(format!("{base}/view")).await;
    let report = r#"{"type":"viewer_stats","fps":12.5,"latency_ms":80}"#;
    viewer.send(Message::Text(report.into())).await.unwrap();
    let mut camera = connect(format!("{base}/camera?token=cam")).await;
    let frames: Vec<Vec<u8>> = (0..4).map(|i| jpeg_frame(LAB, 10 * i, 540, 960)).collect();
    for sequence in 0..12u64 {
        publish(&mut camera, sequence, &frames[sequence as usize % 4]).await;
    }
    let (status, list) = get_json(&server, "/rooms").await;
    assert_eq!(status, 200);
    let room = &list["rooms"][0];
    println!("GET /rooms: {list}");
    assert_eq!(room["room"], "lab");
    assert_eq!(room["camera"]["kind"], "socket");
    assert_eq!(room["camera"]["model"], "lite");
    assert_eq!(room["camera"]["hands"], false);
    assert!(room["camera"]["stream_id"]
        .as_str()
        .unwrap()
        .starts_with('s'));
    assert_eq!(room["viewers"], 1);
    assert_eq!(room["frames_total"], 12);
    assert_eq!(room["results_total"], 12);
    assert!(room["fps_in"].as_f64().unwrap() > 0.0);
    assert!(room["fps_out"].as_f64().unwrap() > 0.0);
    let (p50, p95) = (
        room["latency_ms_p50"].as_f64().unwrap(),
        room["latency_ms_p95"].as_f64().unwrap(),
    );
    assert!(p50 > 0.0 && p95 >= p50, "{p50} {p95}");
    assert_eq!(room["viewer_reports"]["reporting"], 1);
    assert_eq!(room["viewer_reports"]["fps_mean"], 12.5);
    assert_eq!(room["viewer_reports"]["latency_ms_max"], 80.0);
    let listed = &room["viewer_list"][0];
    assert_eq!(
        (listed["via"].as_str(), listed["frames"].as_str()),
        (Some("socket"), Some("none"))
    );
    assert_eq!(listed["fps"], 12.5);
    // The one room, alone.
    let (status, one) = get_json(&server, "/rooms/lab").await;
    assert_eq!((status, one["room"].as_str()), (200, Some("lab")));

    // A viewer's unreadable message gets an error, and the viewer stays.
    viewer
        .send(Message::Text(r#"{"type":"viewer_stats","fps":"x"}"#.into()))
        .await
        .unwrap();
    let error = loop {
        match tokio::time::timeout(Duration::from_secs(10), viewer.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => break text.to_string(),
            Ok(Some(Ok(_))) => continue,
            other => panic!("{other:?}"),
        }
    };
    assert!(error.contains("\"error\""), "{error}");
    assert_eq!(get_json(&server, "/rooms/lab").await.1["viewers"], 1);

    // The camera leaves: the seat is empty, the room stays while its viewer does.
    camera.close(None).await.unwrap();
    drop(camera);
    let started = Instant::now();
    while !get_json(&server, "/rooms/lab").await.1["camera"].is_null() {
        assert!(started.elapsed() < Duration::from_secs(10));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    drop(viewer);
    viewers_become(&server, "lab", 0).await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn room_figures_need_the_view_token_and_rooms_on() {
    let off = server(ServerConfig::default()).await;
    assert_eq!(http(&off, "GET", "/rooms", b"").await.0, 403);
    assert_eq!(http(&off, "GET", "/rooms/lab/mjpeg", b"").await.0, 403);
    off.shutdown().await;
    let guarded = server(ServerConfig::default().rooms("cam", Some("see".into()))).await;
    assert_eq!(http(&guarded, "GET", "/rooms", b"").await.0, 401);
    assert_eq!(http(&guarded, "GET", "/rooms/lab", b"").await.0, 401);
    assert_eq!(http(&guarded, "GET", "/rooms/lab/mjpeg", b"").await.0, 401);
    assert_eq!(http(&guarded, "GET", "/rooms?token=see", b"").await.0, 200);
    guarded.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn annotated_viewers_get_the_frame_with_the_skeleton_drawn() {
    let server = server(ServerConfig::default().rooms("cam", None)).await;
    let base = format!("ws://{}/ws/rooms/lab", server.local_addr());
    let mut annotated = connect(format!("{base}/view?frames=annotated")).await;
    let mut others = [
        connect(format!("{base}/view?frames=annotated")).await,
        connect(format!("{base}/view?frames=annotated")).await,
    ];
    let mut plain = connect(format!("{base}/view")).await;
    let mut camera = connect(format!("{base}/camera?token=cam")).await;
    let jpeg = jpeg_frame(LAB, 25, 540, 960);
    publish(&mut camera, 1, &jpeg).await;
    // The plain viewer gets the result, the annotated one a JPEG too (in either order).
    assert!(ResultView::parse(&binary(&mut plain).await).is_ok());
    let (mut drawn, mut result) = (None, None);
    while drawn.is_none() || result.is_none() {
        let message = binary(&mut annotated).await;
        if Codec::sniff(&message) == Some(Codec::Jpeg) {
            drawn = Some(message);
        } else {
            result = Some(ResultView::parse(&message).unwrap().pose_count());
        }
    }
    assert_eq!(result, Some(1));
    // Three viewers, one result: drawn and encoded once.
    for other in &mut others {
        while Codec::sniff(&binary(other).await) != Some(Codec::Jpeg) {}
    }
    let figures = get_json(&server, "/rooms/lab").await.1;
    assert_eq!(figures["annotated_frames"], 1, "{figures}");
    drop(others);
    viewers_become(&server, "lab", 2).await;
    let (drawn, original) = (decode(&drawn.unwrap()), decode(&jpeg));
    assert_eq!(
        (drawn.width(), drawn.height()),
        (original.width(), original.height())
    );
    let (bones, before) = (bone_pixels(&drawn), bone_pixels(&original));
    println!("bone-coloured pixels: {bones} drawn, {before} in the camera's frame");
    assert!(bones > 500 && before < 50, "{bones} {before}");

    // Closing the annotated viewer mid-stream: gone from the room at once.
    let sender = tokio::spawn(async move {
        for sequence in 2..200u64 {
            if camera.send(frame(sequence, &jpeg)).await.is_err() {
                break;
            }
            let _ = tokio::time::timeout(Duration::from_millis(200), camera.next()).await;
        }
    });
    binary(&mut annotated).await;
    annotated.close(None).await.unwrap();
    let gone = viewers_become(&server, "lab", 1).await;
    println!("annotated WebSocket viewer gone from the room after {gone:?}");
    assert!(gone < Duration::from_secs(1), "{gone:?}");
    sender.abort();
    server.shutdown().await;
}

/// Reads an MJPEG response's head and then `n` parts; returns the JPEGs.
async fn read_parts(socket: &mut TcpStream, n: usize) -> (String, Vec<Vec<u8>>) {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 65536];
    let head_end = loop {
        if let Some(i) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let read = tokio::time::timeout(Duration::from_secs(20), socket.read(&mut chunk)).await;
        let read = read.expect("an MJPEG head").unwrap();
        assert!(read > 0, "closed before the head");
        buffer.extend_from_slice(&chunk[..read]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).to_ascii_lowercase();
    let mut body = buffer.split_off(head_end);
    let mut jpegs = Vec::new();
    // Chunked transfer: find the JPEGs by their markers inside the stream.
    while jpegs.len() < n {
        if let Some(start) = body.windows(3).position(|w| w == [0xFF, 0xD8, 0xFF]) {
            if let Some(end) = body[start..].windows(2).position(|w| w == [0xFF, 0xD9]) {
                jpegs.push(body[start..start + end + 2].to_vec());
                body.drain(..start + end + 2);
                continue;
            }
        }
        let read = tokio::time::timeout(Duration::from_secs(20), socket.read(&mut chunk)).await;
        let read = read.expect("an MJPEG part").unwrap();
        assert!(read > 0, "closed mid-stream");
        body.extend_from_slice(&chunk[..read]);
    }
    (head, jpegs)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mjpeg_viewer_gets_drawn_frames_and_leaving_mid_stream_is_seen_at_once() {
    let server = server(ServerConfig::default().rooms("cam", None)).await;
    let mut mjpeg = TcpStream::connect(server.local_addr()).await.unwrap();
    mjpeg
        .write_all(b"GET /rooms/lab/mjpeg HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    viewers_become(&server, "lab", 1).await;
    let (status, figures) = get_json(&server, "/rooms/lab").await;
    assert_eq!(
        (status, figures["viewer_list"][0]["via"].as_str()),
        (200, Some("mjpeg"))
    );
    let mut camera = connect(format!(
        "ws://{}/ws/rooms/lab/camera?token=cam",
        server.local_addr()
    ))
    .await;
    let jpeg = jpeg_frame(LAB, 25, 540, 960);
    let sender = tokio::spawn(async move {
        for sequence in 0..400u64 {
            if camera.send(frame(sequence, &jpeg)).await.is_err() {
                break;
            }
            let _ = tokio::time::timeout(Duration::from_millis(200), camera.next()).await;
        }
    });
    let (head, parts) = read_parts(&mut mjpeg, 3).await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(
        head.contains("content-type: multipart/x-mixed-replace; boundary=livepose-frame"),
        "{head}"
    );
    for part in &parts {
        let image = decode(part);
        assert_eq!((image.width(), image.height()), (540, 960));
        assert!(bone_pixels(&image) > 500);
    }
    // The client goes while frames flow.
    drop(mjpeg);
    let gone = viewers_become(&server, "lab", 0).await;
    println!("MJPEG viewer gone from the room after {gone:?} (frames flowing)");
    assert!(gone < Duration::from_secs(1), "{gone:?}");
    sender.abort();
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mjpeg_viewer_that_leaves_while_no_frame_comes_is_gone_at_once() {
    // No camera: the response waits for a first frame when the client goes.
    let server = server(ServerConfig::default().rooms("cam", None)).await;
    let mut mjpeg = TcpStream::connect(server.local_addr()).await.unwrap();
    mjpeg
        .write_all(b"GET /rooms/quiet/mjpeg HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    viewers_become(&server, "quiet", 1).await;
    drop(mjpeg);
    let gone = viewers_become(&server, "quiet", 0).await;
    println!("idle MJPEG viewer gone from the room after {gone:?}");
    assert!(gone < Duration::from_secs(1), "{gone:?}");
    assert_eq!(
        get_json(&server, "/rooms").await.1["rooms"],
        serde_json::json!([])
    );
    server.shutdown().await;
}
