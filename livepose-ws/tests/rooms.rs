//! Rooms on a real socket with the real models: a camera publishes with the room token,
//! several viewers get its results (and, if they ask, its frames), tokens are enforced, a
//! second camera is refused.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use livepose_core::image::Codec;
use livepose_core::wire::{peek_type, FrameHeader, ImageFormat, MessageType, ResultView};
use livepose_test_support::data::models;
use livepose_test_support::frames::{jpeg_frame, LAB};
use livepose_ws::{Server, ServerConfig};
use tokio_tungstenite::tungstenite::{self, Message};

fn jpeg() -> Vec<u8> {
    jpeg_frame(LAB, 25, 540, 960)
}

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

fn status(error: tungstenite::Error) -> u16 {
    match error {
        tungstenite::Error::Http(response) => response.status().as_u16(),
        other => panic!("expected an HTTP refusal, got {other}"),
    }
}

async fn binary<S>(socket: &mut S) -> Vec<u8>
where
    S: StreamExt<Item = Result<Message, tungstenite::Error>> + Unpin,
{
    loop {
        match tokio::time::timeout(Duration::from_secs(20), socket.next()).await {
            Ok(Some(Ok(Message::Binary(bytes)))) => return bytes.to_vec(),
            Ok(Some(Ok(_))) => continue,
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewers_get_the_cameras_results_and_frames() {
    let server = server(ServerConfig::default().rooms("cam-secret", None)).await;
    let base = format!("ws://{}/ws/rooms/lab", server.local_addr());
    let (mut plain, _) = tokio_tungstenite::connect_async(format!("{base}/view"))
        .await
        .unwrap();
    let (mut with_frames, _) = tokio_tungstenite::connect_async(format!("{base}/view?frames=1"))
        .await
        .unwrap();
    let (mut camera, _) =
        tokio_tungstenite::connect_async(format!("{base}/camera?token=cam-secret"))
            .await
            .unwrap();
    let image = jpeg();
    camera.send(frame(7, &image)).await.unwrap();
    // The camera gets its own result.
    let own = binary(&mut camera).await;
    assert_eq!(ResultView::parse(&own).unwrap().sequence, 7);
    // A plain viewer gets the result.
    let seen = binary(&mut plain).await;
    let result = ResultView::parse(&seen).unwrap();
    assert_eq!((result.sequence, result.pose_count()), (7, 1));
    // The other gets the frame passed through and the result.
    let (mut got_frame, mut got_result) = (false, false);
    while !(got_frame && got_result) {
        let bytes = binary(&mut with_frames).await;
        match peek_type(&bytes).unwrap() {
            MessageType::Frame => got_frame = true,
            MessageType::Result => got_result = true,
        }
    }
    // A second camera in the same room is refused with a fatal error.
    let (mut second, _) =
        tokio_tungstenite::connect_async(format!("{base}/camera?token=cam-secret"))
            .await
            .unwrap();
    let Some(Ok(Message::Text(text))) = second.next().await else {
        panic!("an error message")
    };
    let error: serde_json::Value = serde_json::from_str(text.as_str()).unwrap();
    assert_eq!(
        (error["code"].as_str(), error["fatal"].as_bool()),
        (Some("camera_taken"), Some(true))
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn room_tokens_are_enforced() {
    let off = server(ServerConfig::default()).await;
    let url = format!("ws://{}/ws/rooms/a/camera", off.local_addr());
    assert_eq!(
        status(tokio_tungstenite::connect_async(url).await.unwrap_err()),
        403
    );
    off.shutdown().await;

    let on = server(ServerConfig::default().rooms("p", Some("v".into()))).await;
    let base = format!("ws://{}/ws/rooms/a", on.local_addr());
    for url in [
        format!("{base}/camera"),
        format!("{base}/camera?token=v"),
        format!("{base}/view"),
        format!("{base}/view?token=p"),
    ] {
        let refused = tokio_tungstenite::connect_async(&url).await.unwrap_err();
        assert_eq!(status(refused), 401, "{url}");
    }
    assert!(
        tokio_tungstenite::connect_async(format!("{base}/view?token=v"))
            .await
            .is_ok()
    );
    on.shutdown().await;
}
