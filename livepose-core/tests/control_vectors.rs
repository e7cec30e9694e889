//! Golden vectors of the control messages (docs/protocol.md §9): each
//! `tests/vectors/control/NAME.json` holds a JSON text message and what a receiver makes of
//! it.
//! - `{"kind": "client", "text", "type"}`: a client message a server accepts as `type`;
//!   `{"kind": "client", "text", "error"}`: one it refuses with that `error` code (a `hello`
//!   of another protocol version is `unsupported_version`, never a `welcome`).
//! - `{"kind": "server", "text", "type": "error", "code"}`: an `error` message as a server
//!   sends it: it parses, its code is one of [`ErrorCode::ALL`], and building it from its
//!   code, message, sequence and fatality gives exactly `text`.
//!
//! Only servers parse client control messages, so the Rust decoder is the one checked here;
//! the vectors are for any other server implementation too.

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
        match spec["kind"].as_str().unwrap() {
            "client" => {
                let parsed = ClientMessage::from_json(text);
                match (spec["type"].as_str(), spec["error"].as_str(), parsed) {
                    (Some(kind), None, Ok(message)) => {
                        assert_eq!(client_type(&message), kind, "{name}")
                    }
                    (None, Some(code), Err(e)) => assert_eq!(e.code(), code, "{name}: {e}"),
                    (_, _, parsed) => panic!("{name}: {text} gave {parsed:?}, spec {spec}"),
                }
            }
            "server" => {
                let Ok(ServerMessage::Error(report)) = ServerMessage::from_json(text) else {
                    panic!("{name}: not an error message: {text}");
                };
                let code: ErrorCode = spec["code"].as_str().unwrap().parse().unwrap();
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
