//! The options' checks and what reaches the configuration.

use std::time::Duration;

use livepose_core::options::{parse_options, ModelKind, OptionsError};

use super::{ServeOptions, ServerConfig};

#[test]
fn defaults_are_the_configs_defaults() {
    let options = parse_options::<ServeOptions>(serde_json::json!({})).unwrap();
    assert_eq!(options, ServeOptions::default());
    let config = options.config().unwrap();
    let default = ServerConfig::default();
    assert_eq!(format!("{config:?}"), format!("{default:?}"));
    assert_eq!(config.addr.to_string(), "127.0.0.1:8765");
}

#[test]
fn every_refusal_names_its_option() {
    for (json, option) in [
        (serde_json::json!({"host": "localhost"}), "host"),
        (serde_json::json!({"port": 70000}), "port"),
        (serde_json::json!({"workers": 0}), "workers"),
        (serde_json::json!({"max_fps": 0}), "max_fps"),
        (serde_json::json!({"heartbeat_secs": 0}), "heartbeat_secs"),
        (serde_json::json!({"view_token": "v"}), "view_token"),
        (serde_json::json!({"sources": ["a=http://cam"]}), "sources"),
        (serde_json::json!({"node_id": "a"}), "node_id"),
        (
            serde_json::json!({"room_token": "r", "sources": ["a=ftp://cam"]}),
            "sources",
        ),
        (
            serde_json::json!({"room_token": "r", "sources": ["a=http://x", "a=http://y"]}),
            "sources",
        ),
        (serde_json::json!({"model": "heavy"}), "model"),
        (
            serde_json::json!({"allowed_origins": "x"}),
            "allowed_origins",
        ),
    ] {
        match parse_options::<ServeOptions>(json.clone()) {
            Err(OptionsError::OutOfRange { option: o, .. })
            | Err(OptionsError::InvalidValue { option: o, .. }) => {
                assert_eq!(o, option, "{json}")
            }
            other => panic!("{json}: {other:?}"),
        }
    }
    let err = parse_options::<ServeOptions>(serde_json::json!({"host": "localhost"}));
    assert!(err
        .unwrap_err()
        .to_string()
        .contains("\"localhost\" is not an IP address"));
}

#[test]
fn options_reach_the_config() {
    let options: ServeOptions = parse_options(serde_json::json!({
        "host": "0.0.0.0", "port": 0, "model": "full", "hands": true, "workers": 3,
        "token": "t", "room_token": "r", "view_token": "v", "allowed_origins": ["https://a"],
        "max_connections": 9, "max_connections_per_ip": 2, "max_fps": 5,
        "max_message_bytes": 4096, "max_pixels": 100, "heartbeat_secs": 0.5, "demo": false,
        "socketio": false, "sources": ["door=http://cam:81/stream"],
        "source_stop_when_unwatched": true,
        "models_dir": "/m", "nats": "nats://127.0.0.1:4222", "node_id": "a",
    }))
    .unwrap();
    let c = options.config().unwrap();
    assert_eq!(c.addr.to_string(), "0.0.0.0:0");
    assert_eq!((c.model, c.hands, c.workers), (ModelKind::Full, true, 3));
    assert_eq!(c.token.as_deref(), Some("t"));
    assert_eq!(
        (c.room_token.as_deref(), c.view_token.as_deref()),
        (Some("r"), Some("v"))
    );
    assert_eq!(c.allowed_origins, ["https://a"]);
    assert_eq!(
        (c.max_connections, c.max_connections_per_ip, c.max_fps),
        (9, 2, 5)
    );
    assert_eq!((c.max_message_bytes, c.max_pixels), (4096, 100));
    assert_eq!(c.heartbeat, Duration::from_millis(500));
    assert!(!c.demo && !c.socketio);
    assert_eq!(
        c.sources,
        [("door".to_string(), "http://cam:81/stream".to_string())]
    );
    assert!(c.source_stop_when_unwatched);
    assert_eq!(c.nats.as_deref(), Some("nats://127.0.0.1:4222"));
    assert_eq!(c.node_id.as_deref(), Some("a"));
    assert_eq!(c.models_dir.as_deref(), Some(std::path::Path::new("/m")));
}
