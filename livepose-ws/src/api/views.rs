//! What `/streams`, `/rooms` and `/rooms/{room}` answer: this node's view, or with
//! `?scope=cluster` every node's, gathered over NATS (`crate::cluster`) with the nodes
//! that did not answer in time listed under `missing`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use serde::Deserialize;

use super::figures::{room_json, rooms_json, streams_json};
use crate::cluster::Gathered;
use crate::state::AppState;

/// The query of a view.
#[derive(Debug, Deserialize)]
pub(crate) struct Scope {
    /// `node` (the default) or `cluster`.
    scope: Option<String>,
}

/// This node's answer to `path` (`streams`, `rooms`, `rooms/NAME`); `null` for a room
/// that is not here.
pub(crate) fn local(state: &AppState, path: &str) -> Value {
    match path {
        "streams" => streams_json(state),
        "rooms" => rooms_json(state),
        _ => match path.strip_prefix("rooms/") {
            Some(name) => room_json(state, name).unwrap_or(Value::Null),
            None => Value::Null,
        },
    }
}

/// The answer to `path` in the scope `?scope=` asks for (`node`, the default, or
/// `cluster`).
pub(crate) async fn answer(state: &AppState, scope: &Scope, path: &str) -> Response {
    match scope.scope.as_deref() {
        None | Some("node") => match local(state, path) {
            Value::Null => not_found(path),
            value => Json(value).into_response(),
        },
        Some("cluster") => match &state.cluster {
            Some(cluster) => cluster_answer(cluster.gather(path).await, path),
            None => (
                StatusCode::BAD_REQUEST,
                Json(json!({"error": "scope=cluster needs cluster mode (`--nats`)"})),
            )
                .into_response(),
        },
        Some(other) => (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": format!("unknown scope {other:?} (node or cluster)")})),
        )
            .into_response(),
    }
}

fn not_found(path: &str) -> Response {
    let name = path.strip_prefix("rooms/").unwrap_or(path);
    let body = json!({"error": format!("no room {name:?}: it has no camera and no viewers")});
    (StatusCode::NOT_FOUND, Json(body)).into_response()
}

/// The nodes' answers merged: each stream or room tagged with its `node`.
fn cluster_answer(gathered: Gathered, path: &str) -> Response {
    let nodes: Vec<&str> = gathered.answers.iter().map(|a| a.node.as_str()).collect();
    let tagged = |key: &str| -> Vec<Value> {
        gathered
            .answers
            .iter()
            .flat_map(|a| {
                let items = a.answer.get(key).and_then(Value::as_array).cloned();
                items.unwrap_or_default().into_iter().map(|mut item| {
                    item["node"] = a.node.clone().into();
                    item
                })
            })
            .collect()
    };
    let mut body = json!({"scope": "cluster", "nodes": nodes, "missing": gathered.missing});
    match path {
        "streams" => body["streams"] = tagged("streams").into(),
        "rooms" => body["rooms"] = tagged("rooms").into(),
        _ => {
            let name = path.strip_prefix("rooms/").unwrap_or(path);
            let here: Vec<Value> = gathered
                .answers
                .iter()
                .filter(|a| !a.answer.is_null())
                .map(|a| {
                    let mut figures = a.answer.clone();
                    figures["node"] = a.node.clone().into();
                    figures
                })
                .collect();
            if here.is_empty() && gathered.missing.is_empty() {
                return not_found(path);
            }
            body["room"] = name.into();
            body["on_nodes"] = here.into();
        }
    }
    Json(body).into_response()
}
