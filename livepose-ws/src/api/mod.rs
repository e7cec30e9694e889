//! The plain HTTP routes. What each answers, and behind which token:
//!
//! | module | routes |
//! | --- | --- |
//! | `health` | `GET /health`, `GET /ready` (open); `GET /metrics` (server's token) |
//! | `streams` | `GET /streams` (server's token) |
//! | `estimate` | `POST /estimate_pose` (server's token; admitted like a socket) |
//! | `rooms` | `GET /rooms`, `GET /rooms/{room}` (view token) |
//! | `mjpeg` | `GET /rooms/{room}/mjpeg` (view token) |
//! | `admin` | `POST`/`DELETE /rooms/{room}/source`, `DELETE /rooms/{room}` (room token); `GET /sources` (server's token) |
//!
//! Below them: `views` (this node's answer, or with `?scope=cluster` every node's) and
//! `figures` (the JSON of this node's streams and rooms).

pub(crate) mod admin;
pub(crate) mod estimate;
mod figures;
pub(crate) mod health;
pub(crate) mod mjpeg;
pub(crate) mod rooms;
pub(crate) mod streams;
mod views;

pub(crate) use views::local as local_view;
