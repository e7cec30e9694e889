//! The room a route names in its path (`/ws/rooms/{room}/…`, `/rooms/{room}…`), checked:
//! [`RoomPath`] is an extractor that refuses a bad name with 400 and a body that starts with
//! its code, `bad_room: …`, before anything else is done with it.

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::refusal::Refusal;
use crate::rooms::{BadRoomName, RoomName};

/// The room named in the path, checked.
#[derive(Debug)]
pub(crate) struct RoomPath(pub(crate) RoomName);

/// The refusal of a bad room name, its code first.
fn bad_room(why: BadRoomName) -> Refusal {
    let code = BadRoomName::CODE;
    Refusal::new(StatusCode::BAD_REQUEST, code, format!("{code}: {why}"))
}

impl<S: Send + Sync> FromRequestParts<S> for RoomPath {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let Path(name) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        RoomName::parse(&name)
            .map(RoomPath)
            .map_err(|why| bad_room(why).into_response())
    }
}
