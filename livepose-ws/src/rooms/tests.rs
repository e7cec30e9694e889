//! The rooms' unit tests: joining against tidying, latest wins per viewer, the camera seat,
//! annotated frames, closing and notices.

use std::sync::Arc;

use axum::body::Bytes;
use livepose_core::image::RgbView;

use super::*;
use crate::message::OutMessage;

fn name(name: &str) -> RoomName {
    RoomName::parse(name).unwrap()
}

#[test]
fn a_joined_room_is_never_forgotten_under_its_viewer() {
    // Viewers join and leave while another thread tidies: every viewer must be in the
    // room that the name maps to (where a camera would publish) until it leaves.
    let rooms = Arc::new(Rooms::default());
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let tidier = {
        let (rooms, stop) = (rooms.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                rooms.tidy("hall");
            }
        })
    };
    let hall = name("hall");
    for _ in 0..20_000 {
        let viewer = Viewer::new("v".into(), "socket", Frames::None);
        let room = rooms.join(&hall, viewer.clone());
        let seat = CameraSeat::take(&rooms, &hall, CameraKind::Socket).expect("no camera yet");
        assert!(
            Arc::ptr_eq(&room, seat.room()),
            "the viewer's room was forgotten"
        );
        drop(seat);
        room.audience.leave(&viewer);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    tidier.join().unwrap();
}

#[test]
fn viewers_get_the_latest_and_leaving_closes() {
    let room = Room::default();
    let a = Viewer::new("a".into(), "socket", Frames::None);
    let b = Viewer::new("b".into(), "socket", Frames::Camera);
    room.audience.join(a.clone());
    room.audience.join(b.clone());
    room.audience.publish_result(&OutMessage::text("1"));
    room.audience.publish_result(&OutMessage::text("2"));
    room.audience
        .publish_frames(Frames::Camera, &Bytes::from_static(b"frame"));
    assert_eq!(a.results.take(), Some(OutMessage::text("2")));
    assert_eq!(a.results.counters().dropped, 1, "latest wins per viewer");
    assert_eq!(
        b.frames.as_ref().unwrap().take(),
        Some(Bytes::from_static(b"frame"))
    );
    room.audience.leave(&a);
    assert!(a.results.is_closed());
    assert_eq!(room.audience.count(), 1);
}

#[test]
fn a_camera_seat_is_held_by_one_and_given_back_on_drop() {
    let rooms = Arc::new(Rooms::default());
    let hall = name("hall");
    let seat = CameraSeat::take(&rooms, &hall, CameraKind::Socket).unwrap();
    seat.set_stream("s1");
    let occupant = seat.room().occupant().unwrap();
    assert_eq!(
        (occupant.kind, occupant.stream_id.as_deref()),
        (CameraKind::Socket, Some("s1"))
    );
    assert!(CameraSeat::take(&rooms, &hall, CameraKind::Source).is_none());
    // What is held with the seat is dropped when the seat is.
    let held = Arc::new(());
    let mut seat = seat;
    seat.hold(held.clone());
    assert_eq!(Arc::strong_count(&held), 2);
    drop(seat);
    assert_eq!(Arc::strong_count(&held), 1);
    assert!(rooms.get("hall").is_none(), "an empty room is forgotten");
    let again = CameraSeat::take(&rooms, &hall, CameraKind::Source).unwrap();
    assert_eq!(again.room().occupant().unwrap().kind, CameraKind::Source);
}

#[test]
fn annotated_frames_go_only_to_viewers_that_want_them_and_are_counted() {
    let room = Arc::new(Room::default());
    let camera = Viewer::new("c".into(), "socket", Frames::Camera);
    let drawn = Viewer::new("d".into(), "mjpeg", Frames::Annotated);
    room.audience.join(camera.clone());
    assert!(!room.audience.wants_annotated());
    room.audience.join(drawn.clone());
    assert!(room.audience.wants_annotated());
    room.audience
        .publish_frames(Frames::Camera, &Bytes::from_static(b"frame"));
    assert_eq!(drawn.frames.as_ref().unwrap().take(), None);
    let pixels = vec![10u8; 8 * 8 * 3];
    room.annotate(RgbView::new(8, 8, &pixels).unwrap(), &[]);
    let jpeg = drawn
        .frames
        .as_ref()
        .unwrap()
        .wait_timeout(std::time::Duration::from_secs(10))
        .item()
        .expect("an annotated frame");
    assert_eq!(&jpeg[..2], &[0xFF, 0xD8]);
    assert_eq!(
        camera.frames.as_ref().unwrap().take(),
        Some(Bytes::from_static(b"frame")),
        "the camera viewer got the camera frame only"
    );
    room.audience.leave(&drawn);
    room.audience.leave(&drawn);
    assert!(
        !room.audience.wants_annotated(),
        "leaving twice counts once"
    );
}

#[tokio::test]
async fn removing_a_room_closes_it_and_notices_reach_its_viewers() {
    let rooms = Rooms::default();
    let viewer = Viewer::new("v".into(), "socket", Frames::None);
    let room = rooms.join(&name("hall"), viewer.clone());
    let mut count = room.audience.watch_count();
    assert_eq!(*count.borrow_and_update(), 1);
    let mut notices = viewer.take_notices().unwrap();
    room.audience.notify(r#"{"type":"source_back"}"#);
    assert_eq!(
        notices.recv().await.as_deref(),
        Some(r#"{"type":"source_back"}"#)
    );
    assert!(rooms.remove("hall").is_some() && rooms.remove("hall").is_none());
    room.closed().await;
    assert!(viewer.results.is_closed());
    // A viewer joining the closed room is closed at once.
    let late = Viewer::new("l".into(), "socket", Frames::None);
    room.audience.join(late.clone());
    assert!(late.results.is_closed());
    room.audience.leave(&viewer);
    count.changed().await.unwrap();
    assert_eq!(*count.borrow(), 1);
}
