//! A `join`: the connection becomes a room's camera (taking the room's camera seat, which
//! its `Joined` holds until it leaves) or a viewer, after the same checks as every route:
//! the room token or the view token, and the room's name. Refusals are non-fatal `error`
//! events (`rooms_off`, `unauthorized`, `bad_room`, `camera_taken`).

use std::sync::Arc;

use super::connection::{Connection, Joined};
use super::events::{Join, JoinRole};
use crate::admission::{Presented, RoomToken, TokenKind, ViewToken};
use crate::rooms::{BadRoomName, CameraKind, RoomName, Viewer};
use crate::state::AppState;

/// A `join` event.
pub(crate) fn on_join(state: &Arc<AppState>, c: &Arc<Connection>, join: Join) {
    let presented = Presented::join(join.token.as_deref());
    let allowed = match join.role {
        JoinRole::Camera => RoomToken::check(&state.config, &presented).map(drop),
        JoinRole::Viewer => ViewToken::check(&state.config, &presented).map(drop),
    };
    if let Err(refusal) = allowed {
        return state.send_error(&c.stream, refusal.code, &refusal.why, 0);
    }
    let name = match RoomName::parse(&join.room) {
        Ok(name) => name,
        Err(why) => return state.send_error(&c.stream, BadRoomName::CODE, &why.to_string(), 0),
    };
    let mut joined = c.joined.lock();
    if let Some(old) = joined.take() {
        leave(state, c, old);
    }
    match join.role {
        JoinRole::Camera => {
            let on_taken = {
                let (state, c, name) = (state.clone(), c.clone(), name.clone());
                move |node: String| evicted(&state, &c, &name, &node)
            };
            match state.take_camera_seat(&name, CameraKind::SocketIo, on_taken) {
                Some(seat) => {
                    // Listed again if it had left the list as a viewer.
                    state.streams.insert(c.stream.clone());
                    c.session.lock().publish_to(&seat);
                    *joined = Some(Joined::Camera(seat));
                    c.join_signal.notify_one();
                }
                None => state.send_error(
                    &c.stream,
                    "camera_taken",
                    "this room has a camera already",
                    0,
                ),
            }
        }
        JoinRole::Viewer => {
            let viewer = Viewer::new(c.stream.id.clone(), "socket.io", join.frames.wants());
            let room = state.join_room(&name, viewer.clone());
            // A viewer sends no frames: not a stream of its own any more.
            state.streams.remove(&c.stream.id);
            *joined = Some(Joined::Viewer(name, room, viewer));
            c.join_signal.notify_one();
        }
    }
}

/// Another node's camera holds room `name`, which this connection is the camera of: it
/// stops being the camera (`camera_taken`).
fn evicted(state: &AppState, c: &Connection, name: &RoomName, node: &str) {
    let mut joined = c.joined.lock();
    if matches!(&*joined, Some(Joined::Camera(seat)) if seat.name() == name) {
        if let Some(camera) = joined.take() {
            leave(state, c, camera);
        }
        let why = format!("this room's camera is on node {node}");
        state.send_error(&c.stream, "camera_taken", &why, 0);
    }
}

/// Gives back the connection's place: a camera stops publishing and its seat is given back;
/// a viewer leaves.
pub(crate) fn leave(state: &AppState, c: &Connection, joined: Joined) {
    match joined {
        Joined::Camera(seat) => {
            c.session.lock().unpublish();
            drop(seat);
        }
        Joined::Viewer(name, room, viewer) => {
            room.audience.leave(&viewer);
            state.rooms.tidy(name.as_str());
        }
    }
}
