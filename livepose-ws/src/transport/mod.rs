//! How frames reach a pose stream and results leave it: the WebSocket routes (`ws`),
//! Socket.IO (`socketio`), and server-side sources (`source`, a camera whose frames ffmpeg
//! reads). Each admits its connection, opens a session (`crate::sessions`) and, as a room's
//! camera, holds the room's camera seat (`crate::rooms::CameraSeat`).

pub(crate) mod socketio;
pub(crate) mod source;
pub(crate) mod ws;
