//! A room viewer's socket: the camera's results (and frames, if asked) and the room's
//! notices, until it closes or the room is removed.

use axum::extract::ws::{Message, WebSocket};
use futures_util::{SinkExt, StreamExt};

use crate::metrics::Connected;
use crate::rooms::Viewer;
use crate::state::AppState;

/// Serves a viewer of room `name` until its socket closes; `frames`: also the camera's
/// frame messages.
pub(crate) async fn viewer_session(state: &AppState, socket: WebSocket, name: &str, frames: bool) {
    let _connected = Connected::new(&state.metrics);
    let viewer = Viewer::new(frames);
    let room = state.rooms.join(name, viewer.clone());
    let (mut sink, mut source) = socket.split();
    let writer = {
        let viewer = viewer.clone();
        let mut notices = viewer.take_notices();
        tokio::spawn(async move {
            loop {
                let notice = async {
                    match &mut notices {
                        Some(notices) => notices.recv().await,
                        None => std::future::pending().await,
                    }
                };
                let frame = async {
                    match &viewer.frames {
                        Some(frames) => frames.wait().await,
                        None => std::future::pending().await,
                    }
                };
                let message = tokio::select! {
                    out = viewer.results.wait() => match out {
                        Some(out) => out.into_message(),
                        None => break,
                    },
                    Some(bytes) = frame => Message::Binary(bytes),
                    Some(text) = notice => Message::Text(text.into()),
                };
                if sink.send(message).await.is_err() {
                    break;
                }
            }
            let _ = sink.close().await;
        })
    };
    loop {
        let message = tokio::select! {
            message = source.next() => message,
            _ = room.closed() => break,
        };
        match message {
            Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
            Some(Ok(_)) => {}
        }
    }
    room.leave(&viewer);
    let _ = writer.await;
    state.release_memory_soon();
}
