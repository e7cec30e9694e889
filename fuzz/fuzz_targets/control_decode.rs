//! JSON control messages from either side (keyframe_request among them): what parses
//! serialises to JSON that parses to the same message.
#![no_main]
use libfuzzer_sys::fuzz_target;
use livepose_core::wire::control::{ClientMessage, ServerMessage};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(msg) = ClientMessage::from_json(text) {
            let _ = ClientMessage::from_json(&msg.to_json());
        }
        if let Ok(msg) = ServerMessage::from_json(text) {
            let again = ServerMessage::from_json(&msg.to_json());
            if let ServerMessage::KeyframeRequest(_) = msg {
                assert_eq!(again.unwrap(), msg);
            }
        }
    }
});
