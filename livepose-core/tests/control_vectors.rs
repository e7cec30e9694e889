//! Golden vectors of the control messages (docs/protocol.md §9): each
//! `tests/vectors/control/NAME.json` is `{"kind": "control", "direction", "text", "message"}`:
//! a JSON text message exactly as written and the same parsed, plus what a receiver makes of
//! it.
//! - `"direction": "client"`: a client message a server accepts as its `type`, or, with
//!   `"error": CODE`, one it refuses with that code (a `hello` of another protocol version is
//!   `unsupported_version`, never a `welcome`).
//! - `"direction": "server"`: a server message; it parses and writes back exactly as `text`.
//!   An `error` message's code is one of [`ErrorCode::ALL`], and building it from its code,
//!   message, sequence and fatality gives exactly `text`.
//!
//! Only servers parse client control messages, so the Rust decoder is the one checked for
//! those; the Python and JavaScript tests check that `text` parses to `message`.

use std::path::{Path, PathBuf};

use livepose_core::wire::control::{ClientMessage, ErrorReport, ServerMessage};
use livepose_core::wire::ErrorCode;
use serde_json::Value;

fn vectors() -> Vec<(String, Value)> {
    let dir: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/control");
    let mut all: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .map(|path| {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            let spec = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            (name, spec)
        })
        .collect();
    all.sort_by(|a, b| a.0.cmp(&b.0));
    all
}

fn client_type(message: &ClientMessage) -> &'static str {
    match message {
        ClientMessage::Hello(_) => "hello",
        ClientMessage::Config(_) => "config",
        ClientMessage::ViewerStats(_) => "viewer_stats",
    }
}

#[test]
fn control_vectors() {
    let all = vectors();
    assert!(all.len() >= 8, "{} control vectors", all.len());
    for (name, spec) in all {
        let text = spec["text"].as_str().unwrap();
        assert_eq!(spec["kind"], "control", "{name}");
        let object: Value = serde_json::from_str(text).unwrap();
        assert_eq!(object, spec["message"], "{name}: text and message differ");
        match spec["direction"].as_str().unwrap() {
            "client" => {
                let parsed = ClientMessage::from_json(text);
                match (spec["error"].as_str(), parsed) {
                    (None, Ok(message)) => {
                        assert_eq!(
                            Some(client_type(&message)),
                            object["type"].as_str(),
                            "{name}"
                        )
                    }
                    (Some(code), Err(e)) => assert_eq!(e.code(), code, "{name}: {e}"),
                    (_, parsed) => panic!("{name}: {text} gave {parsed:?}, spec {spec}"),
                }
            }
            "server" => {
                let parsed = ServerMessage::from_json(text).unwrap();
                assert_eq!(parsed.to_json(), text, "{name}: written back");
                let ServerMessage::Error(report) = parsed else {
                    continue;
                };
                let code: ErrorCode = object["code"].as_str().unwrap().parse().unwrap();
                assert_eq!(report.error_code(), Some(code), "{name}");
                let mut built = ErrorReport::new(code, report.message.clone());
                if let Some(sequence) = report.sequence {
                    built = built.about(sequence);
                }
                if report.fatal {
                    built = built.fatal();
                }
                assert_eq!(ServerMessage::Error(built).to_json(), text, "{name}");
            }
            other => panic!("{name}: unknown kind {other}"),
        }
    }
}
