//! Rooms: one camera publishes frames, many viewers receive its results and, if they ask,
//! the camera's frames or the server's annotated frames. A room can be closed
//! (`DELETE /rooms/{room}`): its camera and viewers then end.
//!
//! | module | job |
//! | --- | --- |
//! | `name` | [`RoomName`]: the one check of a room's name, for every route |
//! | `viewer` | [`Viewer`]: latest-wins slots of its own, notices, its `viewer_stats`; [`Frames`] |
//! | `audience` | [`Audience`](audience::Audience): a room's viewers and relays, what is published to them, the room's closing |
//! | `room` | [`Room`]: the audience, who sits in the camera seat, annotation, figures |
//! | `table` | [`Rooms`]: the rooms by name, made on use and forgotten when empty |
//! | `seat` | [`CameraSeat`]: the one guard of a room's camera seat, given back on drop |
//! | `meter` | [`RoomMeter`](meter::RoomMeter) and the viewers' reports: a room's figures, time passed in |
//! | `annotate` | [`Annotator`](annotate::Annotator): frames drawn and JPEG-encoded once for every annotated viewer |

mod annotate;
mod audience;
mod meter;
mod name;
mod room;
mod seat;
mod table;
mod viewer;

pub(crate) use meter::{CameraFigures, ViewersFigures};
pub(crate) use name::{BadRoomName, RoomName};
pub(crate) use room::{CameraKind, Room};
pub(crate) use seat::CameraSeat;
pub(crate) use table::Rooms;
pub(crate) use viewer::{Frames, Viewer};

#[cfg(test)]
mod tests;
