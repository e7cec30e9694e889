//! The events a Socket.IO client sends, decoded: `frame` (an object with an `image`, a data
//! URL or a binary attachment, and `timestamp?`, `sequence?`; or an image or protocol v1
//! frame alone) and `join` (`{room, role: "camera" | "viewer", token?, frames?}`); and a
//! frame handed to the stream's session.

use std::sync::Arc;

use axum::body::Bytes;
use serde::Deserialize;

use super::connection::Connection;
use crate::rooms::Frames;
use crate::sessions::inbound;
use crate::state::AppState;

/// A `frame` event: an object with an `image`, or an image (or protocol v1 frame) alone.
#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum FrameEvent {
    Object {
        image: ImageData,
        #[serde(default)]
        timestamp: Option<f64>,
        #[serde(default)]
        sequence: Option<u64>,
    },
    Binary(Bytes),
}

/// An `image` field: base64 text (a data URL) or a binary attachment, told apart by what
/// the packet holds, not by whether the bytes happen to be UTF-8.
pub(crate) enum ImageData {
    Text(String),
    Binary(Bytes),
}

impl<'de> Deserialize<'de> for ImageData {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl serde::de::Visitor<'_> for Visit {
            type Value = ImageData;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a data URL or base64 string, or a binary attachment")
            }
            fn visit_str<E>(self, text: &str) -> Result<ImageData, E> {
                Ok(ImageData::Text(text.to_string()))
            }
            fn visit_string<E>(self, text: String) -> Result<ImageData, E> {
                Ok(ImageData::Text(text))
            }
            fn visit_bytes<E>(self, bytes: &[u8]) -> Result<ImageData, E> {
                Ok(ImageData::Binary(Bytes::copy_from_slice(bytes)))
            }
            fn visit_byte_buf<E>(self, bytes: Vec<u8>) -> Result<ImageData, E> {
                Ok(ImageData::Binary(bytes.into()))
            }
        }
        deserializer.deserialize_any(Visit)
    }
}

/// A `join` event: this connection becomes a room's camera or viewer.
#[derive(Deserialize)]
pub(crate) struct Join {
    pub(crate) room: String,
    pub(crate) role: JoinRole,
    #[serde(default)]
    pub(crate) token: Option<String>,
    #[serde(default)]
    pub(crate) frames: JoinFrames,
}

/// A viewer's `frames` in `join`: `true` (the camera's frames), `"annotated"`, or none.
#[derive(Deserialize, Default)]
#[serde(untagged)]
pub(crate) enum JoinFrames {
    #[default]
    None,
    Camera(bool),
    Named(AnnotatedName),
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum AnnotatedName {
    Annotated,
}

impl JoinFrames {
    pub(crate) fn wants(&self) -> Frames {
        match self {
            JoinFrames::Camera(true) => Frames::Camera,
            JoinFrames::Named(AnnotatedName::Annotated) => Frames::Annotated,
            JoinFrames::None | JoinFrames::Camera(false) => Frames::None,
        }
    }
}

#[derive(Deserialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum JoinRole {
    Camera,
    Viewer,
}

/// A `frame` event, to the stream's session.
pub(crate) fn on_frame(state: &Arc<AppState>, c: &Connection, frame: FrameEvent) {
    let mut session = c.session.lock();
    match frame {
        FrameEvent::Binary(bytes) if bytes.starts_with(&livepose_core::wire::MAGIC) => {
            inbound::on_binary(state, &mut session, bytes)
        }
        FrameEvent::Binary(bytes) => {
            inbound::on_encoded_image(state, &mut session, bytes, None, None)
        }
        FrameEvent::Object {
            image: ImageData::Binary(bytes),
            timestamp,
            sequence,
        } => inbound::on_encoded_image(state, &mut session, bytes, sequence, timestamp),
        FrameEvent::Object {
            image: ImageData::Text(text),
            timestamp,
            sequence,
        } => inbound::on_base64_image(state, &mut session, &text, sequence, timestamp),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    #[test]
    fn frame_events_take_every_shape_front_ends_send() {
        let json = serde_json::json!({"image": "data:image/jpeg;base64,/9j/", "sequence": 3});
        let Ok(FrameEvent::Object {
            image: ImageData::Text(text),
            sequence: Some(3),
            ..
        }) = serde_json::from_value::<FrameEvent>(json)
        else {
            panic!("a JSON frame");
        };
        assert!(text.starts_with("data:image/jpeg"));
        let join: Join =
            serde_json::from_value(serde_json::json!({"room": "r", "role": "viewer"})).unwrap();
        assert!(join.role == JoinRole::Viewer && join.frames.wants() == Frames::None);
        assert!(join.token.is_none());
        let frames = |value: Value| {
            serde_json::from_value::<Join>(
                serde_json::json!({"room": "r", "role": "viewer", "frames": value}),
            )
            .map(|join| join.frames.wants())
            .ok()
        };
        assert_eq!(frames(true.into()), Some(Frames::Camera));
        assert_eq!(frames(false.into()), Some(Frames::None));
        assert_eq!(frames("annotated".into()), Some(Frames::Annotated));
        assert_eq!(frames("drawn".into()), None);
    }
}
