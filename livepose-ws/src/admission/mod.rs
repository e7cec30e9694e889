//! What a request must pass before it is served: its token ([`StreamToken`],
//! [`ViewToken`], [`RoomToken`], [`AdminToken`]: extractors, and checks for Socket.IO), the room its path
//! names ([`RoomPath`]), and the server's limits ([`admit`], which gives an [`Admission`]
//! held for as long as the connection). Each refusal is a [`Refusal`](refusal::Refusal).

mod limits;
mod refusal;
mod room;
mod tokens;

pub(crate) use limits::{admit, Admission, Pending};
pub(crate) use room::RoomPath;
pub(crate) use tokens::{AdminToken, Presented, RoomToken, StreamToken, TokenKind, ViewToken};
