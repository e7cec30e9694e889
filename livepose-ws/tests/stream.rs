//! The server on a real socket with the real models (`scripts/fetch-models.sh`) and real
//! frames of the test clips: binary and JSON clients, bad input, latest-wins, and cleanup
//! on close.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use livepose_core::image::Codec;
use livepose_core::wire::{compat, FrameHeader, ImageFormat, ResultView};
use livepose_test_support::data::models;
use livepose_test_support::frames::{jpeg_frame, LAB};
use livepose_ws::{Server, ServerConfig};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Frames `first..first + count` of the dance clip as 540x960 JPEGs.
fn jpegs(first: usize, count: usize) -> Vec<Vec<u8>> {
    (first..first + count)
        .map(|i| jpeg_frame(LAB, i, 540, 960))
        .collect()
}

async fn server() -> Server {
    let config = ServerConfig::default()
        .addr("127.0.0.1:0".parse().unwrap())
        .workers(2)
        .models_dir(models())
        // Stats messages have their own test; elsewhere they would interleave with results.
        .stats_interval(Duration::from_secs(3600));
    Server::start(config).await.unwrap()
}

async fn connect(server: &Server) -> Socket {
    let url = format!("ws://{}/ws", server.local_addr());
    tokio_tungstenite::connect_async(url).await.unwrap().0
}

fn frame(sequence: u64, jpeg: &[u8]) -> Message {
    let header = FrameHeader::new(
        sequence,
        1_000 * sequence as i64,
        ImageFormat::Encoded(Codec::Jpeg),
    );
    let mut bytes = Vec::new();
    header.encode_with_payload(jpeg, &mut bytes).unwrap();
    Message::Binary(bytes.into())
}

/// The next message, or panic after 20 s.
async fn next(socket: &mut Socket) -> Message {
    tokio::time::timeout(Duration::from_secs(20), socket.next())
        .await
        .expect("a message within 20 s")
        .expect("socket open")
        .expect("no socket error")
}

async fn next_text(socket: &mut Socket) -> serde_json::Value {
    match next(socket).await {
        Message::Text(text) => serde_json::from_str(text.as_str()).unwrap(),
        other => panic!("expected text, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_frames_get_binary_results_with_poses() {
    let server = server().await;
    let mut socket = connect(&server).await;
    socket
        .send(Message::Text(
            r#"{"type":"hello","protocol":1,"model":"lite"}"#.into(),
        ))
        .await
        .unwrap();
    let welcome = next_text(&mut socket).await;
    assert_eq!(welcome["type"], "welcome", "{welcome}");
    assert_eq!(welcome["options"]["results"], "binary");
    for (i, jpeg) in jpegs(30, 4).iter().enumerate() {
        socket.send(frame(i as u64 + 1, jpeg)).await.unwrap();
        let Message::Binary(bytes) = next(&mut socket).await else {
            panic!("binary result expected")
        };
        let result = ResultView::parse(&bytes).unwrap();
        assert_eq!(result.sequence, i as u64 + 1, "sequence echoed");
        assert_eq!(
            result.capture_ts_us,
            1_000 * (i as i64 + 1),
            "timestamp echoed"
        );
        assert_eq!(result.pose_count(), 1);
        assert!(result.server_end_us >= result.server_start_us);
        assert!(result.timings().landmarks > 0);
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_clients_get_json_results() {
    let server = server().await;
    let mut socket = connect(&server).await;
    let mut text = String::new();
    compat::encode_frame(&jpegs(40, 1)[0], Codec::Jpeg, 1234.5, 7, &mut text);
    socket.send(Message::Text(text.into())).await.unwrap();
    // The implied hello's welcome, then the result in the Python backends' shape.
    let welcome = next_text(&mut socket).await;
    assert_eq!(welcome["options"]["results"], "json");
    let result = next_text(&mut socket).await;
    assert!(
        result["body"].as_array().is_some_and(|b| !b.is_empty()),
        "{result}"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_an_error_naming_it_and_the_stream_keeps_working() {
    let server = server().await;
    let mut socket = connect(&server).await;
    let jpeg = &jpegs(50, 1)[0];
    let Message::Binary(good) = frame(9, jpeg) else {
        unreachable!()
    };
    let cases: Vec<(Message, &str)> = vec![
        (Message::Binary(good[..30].to_vec().into()), "truncated"),
        (
            Message::Binary(b"GET / HTTP/1.1".to_vec().into()),
            "bad_magic",
        ),
        (Message::Text("{\"image\": 5}".into()), "bad_json"),
    ];
    for (message, code) in cases {
        socket.send(message).await.unwrap();
        let error = next_text(&mut socket).await;
        assert_eq!(error["type"], "error", "{error}");
        assert_eq!(error["code"], code, "{error}");
        assert!(!error["message"].as_str().unwrap().is_empty());
    }
    // A corrupt JPEG inside a valid frame: the decoder's error, then a good frame works.
    let mut corrupt = jpeg.clone();
    corrupt.truncate(jpeg.len() / 3);
    socket.send(frame(10, &corrupt)).await.unwrap();
    let error = next_text(&mut socket).await;
    assert_eq!(error["type"], "error", "{error}");
    assert_eq!(error["sequence"], 10);
    socket.send(frame(11, jpeg)).await.unwrap();
    let Message::Binary(bytes) = next(&mut socket).await else {
        panic!("result expected")
    };
    assert_eq!(ResultView::parse(&bytes).unwrap().pose_count(), 1);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_is_latest_wins_and_closing_stops_inference_at_once() {
    let server = server().await;
    let mut socket = connect(&server).await;
    let frames = jpegs(60, 3);
    // 30 frames back to back: the server keeps only the newest waiting one.
    for i in 0..30u64 {
        socket
            .send(frame(i + 1, &frames[i as usize % 3]))
            .await
            .unwrap();
    }
    let mut last = 0;
    let mut dropped = 0;
    while last < 30 {
        let Message::Binary(bytes) = next(&mut socket).await else {
            panic!("result expected")
        };
        let result = ResultView::parse(&bytes).unwrap();
        assert!(result.sequence > last, "never older after newer");
        last = result.sequence;
        dropped = result.frames_dropped;
    }
    assert!(dropped > 0, "frames were displaced, not queued");
    let processed = server.inferences();
    assert!(processed < 30, "{processed} inferences for 30 frames");
    println!("30 frames sent back to back: {processed} inferred, {dropped} dropped");

    // Another burst, then close: inference stops within 100 ms of the close.
    for i in 0..30u64 {
        socket.send(frame(100 + i, &frames[0])).await.unwrap();
    }
    socket.close(None).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let at_close = server.inferences();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        server.inferences(),
        at_close,
        "no inference after the close"
    );
    assert_eq!(server.stream_count(), 0, "stream resources released");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_streams_each_get_ordered_results_and_none_starves() {
    let server = server().await;
    let frames = jpegs(70, 2);
    let mut clients = Vec::new();
    for c in 0..3 {
        let mut socket = connect(&server).await;
        let frames = frames.clone();
        clients.push(tokio::spawn(async move {
            for round in 0..3u64 {
                for i in 0..10u64 {
                    let sequence = round * 10 + i + 1;
                    socket
                        .send(frame(sequence, &frames[(c + i as usize) % 2]))
                        .await
                        .unwrap();
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let (mut last, mut results) = (0, 0);
            while last < 30 {
                let Message::Binary(bytes) = next(&mut socket).await else {
                    panic!("result expected")
                };
                let sequence = ResultView::parse(&bytes).unwrap().sequence;
                assert!(sequence > last, "stream {c}: {sequence} after {last}");
                last = sequence;
                results += 1;
            }
            results
        }));
    }
    for (c, client) in clients.into_iter().enumerate() {
        let results = client.await.unwrap();
        assert!(results >= 1, "stream {c} got {results} results");
        println!("stream {c}: {results} results for 30 frames");
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_and_rate_hints_arrive_for_an_overlay() {
    let config = ServerConfig::default()
        .addr("127.0.0.1:0".parse().unwrap())
        .workers(1)
        .models_dir(models())
        .stats_interval(Duration::from_millis(300));
    let server = Server::start(config).await.unwrap();
    let socket = connect(&server).await;
    let frames = jpegs(80, 2);
    // Send at about 200 fps for a second: far faster than one worker processes.
    let (mut stats, mut rate, mut results) = (None, None, 0);
    let sender = {
        let frames = frames.clone();
        let (mut sink, mut source) = socket.split();
        let task = tokio::spawn(async move {
            for i in 0..200u64 {
                sink.send(frame(i + 1, &frames[i as usize % 2]))
                    .await
                    .unwrap();
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            sink
        });
        let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
        while let Ok(Some(Ok(message))) = tokio::time::timeout_at(deadline, source.next()).await {
            match message {
                Message::Binary(_) => results += 1,
                Message::Text(text) => {
                    let v: serde_json::Value = serde_json::from_str(text.as_str()).unwrap();
                    match v["type"].as_str() {
                        Some("stats") => stats = Some(v),
                        Some("rate") => rate = Some(v),
                        _ => {}
                    }
                }
                _ => {}
            }
            if stats.is_some() && rate.is_some() && results > 3 {
                break;
            }
        }
        task
    };
    let stats = stats.expect("a stats message");
    assert!(stats["fps_in"].as_f64().unwrap() > 0.0, "{stats}");
    assert!(stats["results"].as_u64().unwrap() > 0, "{stats}");
    assert!(stats["dropped"].as_u64().unwrap() > 0, "{stats}");
    assert!(stats["latency_us"]["p50"].as_u64().unwrap() > 0, "{stats}");
    assert!(
        stats["timings_us"]["landmarks"].as_u64().unwrap() > 0,
        "{stats}"
    );
    let rate = rate.expect("a rate hint: the client sends faster than its stream is processed");
    let max = rate["max_send_fps"].as_f64().unwrap();
    assert!(max > 0.0 && max < 150.0, "{rate}");
    let _ = sender.await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_rgb_and_rgba_frames_are_accepted() {
    use livepose_core::image::{ImageDecoder, PixelLayout, RgbImage};
    let server = server().await;
    let mut socket = connect(&server).await;
    let mut image = RgbImage::new();
    ImageDecoder::default()
        .decode(&jpegs(30, 1)[0], &mut image)
        .unwrap();
    let (w, h) = (image.width(), image.height());
    let rgba: Vec<u8> = image
        .data()
        .chunks_exact(3)
        .flat_map(|p| [p[0], p[1], p[2], 255])
        .collect();
    for (sequence, layout, pixels) in [
        (1, PixelLayout::Rgb8, image.data().to_vec()),
        (2, PixelLayout::Rgba8, rgba),
    ] {
        let format = ImageFormat::Raw {
            layout,
            width: w,
            height: h,
        };
        let mut bytes = Vec::new();
        FrameHeader::new(sequence, 0, format)
            .encode_with_payload(&pixels, &mut bytes)
            .unwrap();
        socket.send(Message::Binary(bytes.into())).await.unwrap();
        let Message::Binary(result) = next(&mut socket).await else {
            panic!("result expected")
        };
        let result = ResultView::parse(&result).unwrap();
        assert_eq!((result.sequence, result.pose_count()), (sequence, 1));
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_result_fps_spaces_results_and_keeps_the_newest() {
    let server = server().await;
    let mut socket = connect(&server).await;
    socket
        .send(Message::Text(
            r#"{"type":"hello","protocol":1,"max_result_fps":4}"#.into(),
        ))
        .await
        .unwrap();
    assert_eq!(next_text(&mut socket).await["type"], "welcome");
    let frames = jpegs(90, 2);
    let (mut sink, mut source) = socket.split();
    let sender = tokio::spawn(async move {
        for i in 0..40u64 {
            sink.send(frame(i + 1, &frames[i as usize % 2]))
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        sink
    });
    let started = std::time::Instant::now();
    let mut arrivals = Vec::new();
    let mut last = 0;
    while last < 40 {
        let Message::Binary(bytes) = tokio::time::timeout(Duration::from_secs(20), source.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap()
        else {
            panic!("result expected")
        };
        last = ResultView::parse(&bytes).unwrap().sequence;
        arrivals.push(started.elapsed());
    }
    let _ = sender.await;
    let gaps: Vec<_> = arrivals.windows(2).map(|w| w[1] - w[0]).collect();
    println!(
        "{} results for 40 frames over {:?}",
        arrivals.len(),
        started.elapsed()
    );
    assert!(
        arrivals.len() <= 8,
        "at most ~4 per second: {}",
        arrivals.len()
    );
    assert!(
        gaps.iter().all(|g| *g >= Duration::from_millis(200)),
        "results spaced by 1/4 s: {gaps:?}"
    );
    server.shutdown().await;
}
