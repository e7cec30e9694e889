//! What a Socket.IO handshake may say: the `auth` object, then the query string: `token`,
//! `result_event` (default [`RESULT_EVENT`]), `results` (`json`, the default here, or
//! `binary`), and the stream options of `hello`.

use std::collections::HashMap;

use livepose_core::wire::control::StreamOptions;
use serde::Deserialize;
use serde_json::{Map, Value};
use socketioxide::extract::SocketRef;

/// Results go out as this event unless the handshake names another.
pub(crate) const RESULT_EVENT: &str = "pose_data";

/// A connection's handshake.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Handshake {
    #[serde(default)]
    pub(crate) result_event: Option<String>,
    #[serde(flatten)]
    pub(crate) options: StreamOptions,
}

impl Handshake {
    /// The `auth` object and the query string together (`auth` wins): query values that
    /// read as JSON scalars (`true`, `30`) count as such, others as strings.
    pub(crate) fn read(socket: &SocketRef, auth: Value) -> Result<Self, String> {
        let mut map = match auth {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        for (name, value) in query(socket) {
            let value = serde_json::from_str::<Value>(&value)
                .ok()
                .filter(|v| !v.is_object() && !v.is_array())
                .unwrap_or(Value::String(value));
            map.entry(name).or_insert(value);
        }
        serde_json::from_value(Value::Object(map)).map_err(|e| format!("handshake: {e}"))
    }
}

/// The handshake request's query parameters.
fn query(socket: &SocketRef) -> HashMap<String, String> {
    let query = socket.req_parts().uri.query().unwrap_or("");
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

#[cfg(test)]
mod tests {
    use livepose_core::wire::control::ResultFormat;

    use super::*;

    #[test]
    fn the_handshake_takes_the_result_event_and_stream_options() {
        let handshake: Handshake = serde_json::from_value(serde_json::json!({
            "token": "t", "result_event": "pose_result", "results": "binary", "hands": true
        }))
        .unwrap();
        assert_eq!(handshake.result_event.as_deref(), Some("pose_result"));
        assert_eq!(handshake.options.results, Some(ResultFormat::Binary));
        assert_eq!(handshake.options.hands, Some(true));
    }
}
