//! The WebSocket routes and their sessions: `GET /ws` (a pose stream), a room's
//! `/ws/rooms/{room}/camera` (a pose stream that publishes to the room, holding its camera
//! seat) and `/ws/rooms/{room}/view` (a viewer).
//!
//! | module | job |
//! | --- | --- |
//! | `routes` | the three routes: token, room name, admission, upgrade, the camera seat |
//! | `stream` | a pose stream's reader loop; 1007 on text that is not UTF-8 |
//! | `writer` | its writer task: results, control messages, `stats`, pings and the pong check |
//! | `viewer` | a viewer's socket: results, frames, notices out; `viewer_stats` in |
//! | `close` | a fatal refusal after the upgrade; the close frame of a shutdown (1012) |

mod close;
mod routes;
mod stream;
mod viewer;
mod writer;

pub(crate) use routes::{camera_upgrade, view_upgrade, ws_upgrade};
