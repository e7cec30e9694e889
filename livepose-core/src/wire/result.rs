//! The result message (server to client): header, stage timings, then pose records.
//!
//! ```text
//! header (64 bytes in v1)
//!  0  4  magic "LPOS"        4  1  version (1)        5  1  type (2 = result)
//!  6  2  header length (>= 64, multiple of 4; extensions skipped)
//!  8  8  sequence (u64, echoed)            16  8  capture timestamp (i64 µs, echoed)
//! 24  8  server receive time (u64 µs since the Unix epoch)
//! 32  8  server start time               40  8  server end time
//! 48  8  frames dropped so far (u64)     56  2  flags (u16)
//! 58  2  timing count T (u16)            60  2  pose count P (u16)      62  2  reserved
//! then T x u32 stage timings in µs (decode, detect, crop, landmarks, hands, post, total)
//! then P pose records; bytes after the last record are reserved for later sections.
//!
//! pose record
//!  0  4  record length (u32, whole record, multiple of 4)
//!  4  2  pose header length (>= 40)   6  2  landmarks L    8  2  world landmarks W
//! 10  2  angles A                     12  2  hands H      14  2  reserved
//! 16  4  track id (u32)               20  4  score (f32)
//! 24 16  bounding box x_min, y_min, x_max, y_max (f32)
//! then L x (x, y, z, visibility, presence) f32, W x (x, y, z) f32,
//!      A x (joint id u16, reserved u16, degrees f32), H hand records
//!
//! hand record
//!  0  4  record length (u32)   4  2  hand header length (>= 16)
//!  6  2  landmarks N           8  2  world landmarks M
//! 10  1  handedness (0 unknown, 1 left, 2 right)   11  1  reserved   12  4  score (f32)
//! then N x (x, y, z) f32, M x (x, y, z) f32
//! ```
//!
//! Every array starts 4-byte aligned from the message start, so JavaScript's
//! `Float32Array` and numpy's `frombuffer` can view them without copying.

use std::marker::PhantomData;

use super::bytes::{f32_at, Fields, PutLe};
use super::{parse_preamble, put_preamble, Limits, MessageType, WireError};
pub use crate::types::ResultFlags;
use crate::types::{
    BoundingBox, Hand, Handedness, Joint, JointAngle, Landmark, Point3, Pose, StageTimings,
};

/// Length of the version-1 result header.
pub const RESULT_HEADER_LEN: usize = 64;
/// Length of the version-1 pose record header.
pub const POSE_HEADER_LEN: usize = 40;
/// Length of the version-1 hand record header.
pub const HAND_HEADER_LEN: usize = 16;

/// An owned result message. Reuse one across frames (its vectors keep their capacity) and
/// encode with [`encode_into`](Self::encode_into) into a reused buffer: no allocation per frame.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ResultMessage {
    /// Sequence number of the frame, echoed.
    pub sequence: u64,
    /// Client capture timestamp of the frame, echoed.
    pub capture_ts_us: i64,
    /// When the server received the frame (µs since the Unix epoch).
    pub server_recv_us: u64,
    /// When inference started.
    pub server_start_us: u64,
    /// When inference ended.
    pub server_end_us: u64,
    /// Frames of this stream dropped (displaced before inference) so far.
    pub frames_dropped: u64,
    /// Flags.
    pub flags: ResultFlags,
    /// Per-stage timings.
    pub timings: StageTimings,
    /// The people found.
    pub poses: Vec<Pose>,
}

fn count_u16(what: &'static str, count: usize) -> Result<u16, WireError> {
    u16::try_from(count).map_err(|_| WireError::TooMany {
        what,
        count,
        max: u16::MAX as usize,
    })
}

/// Overwrites the u32 at `at` with the number of bytes from `at` to the end of `out`.
fn patch_record_len(out: &mut [u8], at: usize) -> Result<(), WireError> {
    let len = out.len() - at;
    let len = u32::try_from(len).map_err(|_| WireError::TooMany {
        what: "record bytes",
        count: len,
        max: u32::MAX as usize,
    })?;
    out[at..at + 4].copy_from_slice(&len.to_le_bytes());
    Ok(())
}

fn put_points(out: &mut Vec<u8>, points: &[Point3]) {
    for p in points {
        out.put_f32(p.x);
        out.put_f32(p.y);
        out.put_f32(p.z);
    }
}

impl ResultMessage {
    /// Clears `out` and writes this message into it.
    ///
    /// Fails only if a count exceeds its 16-bit field (more than 65535 poses, landmarks, …).
    pub fn encode_into(&self, out: &mut Vec<u8>) -> Result<(), WireError> {
        out.clear();
        put_preamble(out, MessageType::Result, RESULT_HEADER_LEN as u16);
        out.put_u64(self.sequence);
        out.put_i64(self.capture_ts_us);
        out.put_u64(self.server_recv_us);
        out.put_u64(self.server_start_us);
        out.put_u64(self.server_end_us);
        out.put_u64(self.frames_dropped);
        out.put_u16(self.flags.bits());
        out.put_u16(StageTimings::COUNT as u16);
        out.put_u16(count_u16("poses", self.poses.len())?);
        out.put_u16(0);
        for t in self.timings.to_array() {
            out.put_u32(t);
        }
        for pose in &self.poses {
            encode_pose(pose, out)?;
        }
        Ok(())
    }

    /// Encodes into a new vector.
    pub fn to_bytes(&self) -> Result<Vec<u8>, WireError> {
        let mut out = Vec::new();
        self.encode_into(&mut out)?;
        Ok(out)
    }
}

fn encode_pose(pose: &Pose, out: &mut Vec<u8>) -> Result<(), WireError> {
    let start = out.len();
    out.put_u32(0); // record length, patched below
    out.put_u16(POSE_HEADER_LEN as u16);
    out.put_u16(count_u16("landmarks", pose.landmarks.len())?);
    out.put_u16(count_u16("world landmarks", pose.world_landmarks.len())?);
    out.put_u16(count_u16("angles", pose.angles.len())?);
    out.put_u16(count_u16("hands", pose.hands.len())?);
    out.put_u16(0);
    out.put_u32(pose.id);
    out.put_f32(pose.score);
    out.put_f32(pose.bbox.x_min);
    out.put_f32(pose.bbox.y_min);
    out.put_f32(pose.bbox.x_max);
    out.put_f32(pose.bbox.y_max);
    for lm in &pose.landmarks {
        out.put_f32(lm.x);
        out.put_f32(lm.y);
        out.put_f32(lm.z);
        out.put_f32(lm.visibility);
        out.put_f32(lm.presence);
    }
    put_points(out, &pose.world_landmarks);
    for angle in &pose.angles {
        out.put_u16(angle.joint.id());
        out.put_u16(0);
        out.put_f32(angle.degrees);
    }
    for hand in &pose.hands {
        let hand_start = out.len();
        out.put_u32(0);
        out.put_u16(HAND_HEADER_LEN as u16);
        out.put_u16(count_u16("hand landmarks", hand.landmarks.len())?);
        out.put_u16(count_u16(
            "hand world landmarks",
            hand.world_landmarks.len(),
        )?);
        out.put_u8(hand.handedness.code());
        out.put_u8(0);
        out.put_f32(hand.score);
        put_points(out, &hand.landmarks);
        put_points(out, &hand.world_landmarks);
        patch_record_len(out, hand_start)?;
    }
    patch_record_len(out, start)
}

/// A fixed-size record the wire carries in arrays.
pub trait WireRecord: Sized {
    /// Bytes per record.
    const SIZE: usize;
    /// Reads one record from exactly [`SIZE`](Self::SIZE) bytes.
    fn read(bytes: &[u8]) -> Self;
}

impl WireRecord for Landmark {
    const SIZE: usize = 20;
    fn read(b: &[u8]) -> Self {
        Landmark {
            x: f32_at(b, 0),
            y: f32_at(b, 1),
            z: f32_at(b, 2),
            visibility: f32_at(b, 3),
            presence: f32_at(b, 4),
        }
    }
}

impl WireRecord for Point3 {
    const SIZE: usize = 12;
    fn read(b: &[u8]) -> Self {
        Point3 {
            x: f32_at(b, 0),
            y: f32_at(b, 1),
            z: f32_at(b, 2),
        }
    }
}

impl WireRecord for JointAngle {
    const SIZE: usize = 8;
    fn read(b: &[u8]) -> Self {
        JointAngle {
            joint: Joint::from_id(u16::from_le_bytes([b[0], b[1]])),
            degrees: f32_at(b, 1),
        }
    }
}

/// A borrowed array of wire records; reads each on access, copies nothing.
#[derive(Debug, Clone, Copy)]
pub struct Records<'a, T> {
    bytes: &'a [u8],
    _record: PhantomData<T>,
}

impl<'a, T: WireRecord + 'a> Records<'a, T> {
    fn new(bytes: &'a [u8]) -> Self {
        Records {
            bytes,
            _record: PhantomData,
        }
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.bytes.len() / T::SIZE
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The `i`-th record.
    pub fn get(&self, i: usize) -> Option<T> {
        self.bytes.get(i * T::SIZE..(i + 1) * T::SIZE).map(T::read)
    }

    /// The records in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = T> + 'a {
        self.bytes.chunks_exact(T::SIZE).map(T::read)
    }

    /// The raw little-endian bytes (for zero-copy hand-off to other languages).
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }
}

/// Byte ranges of a validated pose record.
#[derive(Debug, Clone, Copy)]
struct PoseLayout {
    header_len: usize,
    landmarks: usize,
    world: usize,
    angles: usize,
    hands: usize,
}

/// One pose of a [`ResultView`], borrowed.
#[derive(Debug, Clone, Copy)]
pub struct PoseView<'a> {
    record: &'a [u8],
    layout: PoseLayout,
    /// Track id.
    pub id: u32,
    /// Presence score.
    pub score: f32,
    /// Bounding box.
    pub bbox: BoundingBox,
}

/// Splits a record of `bytes` at `at`: reads and checks its length field.
fn record_at<'a>(
    bytes: &'a [u8],
    at: usize,
    min_len: usize,
    what: &'static str,
) -> Result<&'a [u8], WireError> {
    let f = Fields::new(bytes);
    let len = f.u32(at, what)? as usize;
    if len < min_len || !len.is_multiple_of(4) {
        return Err(WireError::Inconsistent(format!(
            "{what} length {len} (needs a multiple of 4, at least {min_len})"
        )));
    }
    f.slice(at, len, what)
}

/// Checks a record's header length field (at offset 4) and returns it.
fn record_header_len(record: &[u8], min: usize, what: &'static str) -> Result<usize, WireError> {
    let len = usize::from(Fields::new(record).u16(4, what)?);
    if len < min || !len.is_multiple_of(4) || len > record.len() {
        return Err(WireError::Inconsistent(format!(
            "{what} header length {len} (needs a multiple of 4, {min}..={})",
            record.len()
        )));
    }
    Ok(len)
}

fn arrays_fit(
    record_len: usize,
    header_len: usize,
    arrays: &[(usize, usize)],
    what: &str,
) -> Result<usize, WireError> {
    let needed = header_len
        + arrays
            .iter()
            .map(|(count, size)| count * size)
            .sum::<usize>();
    if needed > record_len {
        return Err(WireError::Inconsistent(format!(
            "{what} declares {needed} bytes of arrays and header in a {record_len}-byte record"
        )));
    }
    Ok(needed)
}

impl<'a> PoseView<'a> {
    fn parse(record: &'a [u8]) -> Result<Self, WireError> {
        let header_len = record_header_len(record, POSE_HEADER_LEN, "pose record")?;
        let f = Fields::new(record);
        let layout = PoseLayout {
            header_len,
            landmarks: f.u16(6, "landmark count")?.into(),
            world: f.u16(8, "world landmark count")?.into(),
            angles: f.u16(10, "angle count")?.into(),
            hands: f.u16(12, "hand count")?.into(),
        };
        let fixed = arrays_fit(
            record.len(),
            header_len,
            &[
                (layout.landmarks, Landmark::SIZE),
                (layout.world, Point3::SIZE),
                (layout.angles, JointAngle::SIZE),
            ],
            "pose record",
        )?;
        // Validate every hand record now so that iteration cannot fail later.
        let mut at = fixed;
        for _ in 0..layout.hands {
            let hand = record_at(record, at, HAND_HEADER_LEN, "hand record")?;
            HandView::parse(hand)?;
            at += hand.len();
        }
        Ok(PoseView {
            record,
            layout,
            id: f.u32(16, "track id")?,
            score: f.f32(20, "score")?,
            bbox: BoundingBox {
                x_min: f.f32(24, "bounding box")?,
                y_min: f.f32(28, "bounding box")?,
                x_max: f.f32(32, "bounding box")?,
                y_max: f.f32(36, "bounding box")?,
            },
        })
    }

    fn array(&self, skip: &[(usize, usize)], count: usize, size: usize) -> &'a [u8] {
        let start = self.layout.header_len + skip.iter().map(|(c, s)| c * s).sum::<usize>();
        self.record
            .get(start..start + count * size)
            .unwrap_or_default()
    }

    /// Image landmarks.
    pub fn landmarks(&self) -> Records<'a, Landmark> {
        Records::new(self.array(&[], self.layout.landmarks, Landmark::SIZE))
    }

    /// World landmarks (empty if not sent).
    pub fn world_landmarks(&self) -> Records<'a, Point3> {
        let l = &self.layout;
        Records::new(self.array(&[(l.landmarks, Landmark::SIZE)], l.world, Point3::SIZE))
    }

    /// Joint angles.
    pub fn angles(&self) -> Records<'a, JointAngle> {
        let l = &self.layout;
        Records::new(self.array(
            &[(l.landmarks, Landmark::SIZE), (l.world, Point3::SIZE)],
            l.angles,
            JointAngle::SIZE,
        ))
    }

    /// The hands of this person.
    pub fn hands(&self) -> impl Iterator<Item = HandView<'a>> + 'a {
        let l = self.layout;
        let start = l.header_len
            + l.landmarks * Landmark::SIZE
            + l.world * Point3::SIZE
            + l.angles * JointAngle::SIZE;
        walk_records(self.record, start, l.hands, HAND_HEADER_LEN, "hand record")
            .filter_map(|hand| HandView::parse(hand).ok())
    }

    /// Copies into an owned [`Pose`].
    pub fn to_pose(&self) -> Pose {
        Pose {
            id: self.id,
            score: self.score,
            bbox: self.bbox,
            landmarks: self.landmarks().iter().collect(),
            world_landmarks: self.world_landmarks().iter().collect(),
            angles: self.angles().iter().collect(),
            hands: self.hands().map(|h| h.to_hand()).collect(),
        }
    }
}

/// Iterates `count` length-prefixed records starting at `start` (validated beforehand; stops
/// at the first record that does not fit).
fn walk_records<'a>(
    bytes: &'a [u8],
    start: usize,
    count: usize,
    min_len: usize,
    what: &'static str,
) -> impl Iterator<Item = &'a [u8]> + 'a {
    let mut at = start;
    (0..count).map_while(move |_| {
        let record = record_at(bytes, at, min_len, what).ok()?;
        at += record.len();
        Some(record)
    })
}

/// One hand of a [`PoseView`], borrowed.
#[derive(Debug, Clone, Copy)]
pub struct HandView<'a> {
    landmarks: &'a [u8],
    world: &'a [u8],
    /// Left or right.
    pub handedness: Handedness,
    /// Confidence.
    pub score: f32,
}

impl<'a> HandView<'a> {
    fn parse(record: &'a [u8]) -> Result<Self, WireError> {
        let header_len = record_header_len(record, HAND_HEADER_LEN, "hand record")?;
        let f = Fields::new(record);
        let n = usize::from(f.u16(6, "hand landmark count")?);
        let m = usize::from(f.u16(8, "hand world landmark count")?);
        arrays_fit(
            record.len(),
            header_len,
            &[(n, Point3::SIZE), (m, Point3::SIZE)],
            "hand record",
        )?;
        let landmarks_at = header_len;
        let world_at = landmarks_at + n * Point3::SIZE;
        Ok(HandView {
            landmarks: f.slice(landmarks_at, n * Point3::SIZE, "hand landmarks")?,
            world: f.slice(world_at, m * Point3::SIZE, "hand world landmarks")?,
            handedness: Handedness::from_code(f.u8(10, "handedness")?),
            score: f.f32(12, "hand score")?,
        })
    }

    /// Landmarks in normalised image coordinates.
    pub fn landmarks(&self) -> Records<'a, Point3> {
        Records::new(self.landmarks)
    }

    /// World landmarks in metres.
    pub fn world_landmarks(&self) -> Records<'a, Point3> {
        Records::new(self.world)
    }

    /// Copies into an owned [`Hand`].
    pub fn to_hand(&self) -> Hand {
        Hand {
            handedness: self.handedness,
            score: self.score,
            landmarks: self.landmarks().iter().collect(),
            world_landmarks: self.world_landmarks().iter().collect(),
        }
    }
}

/// A validated result message that reads its fields from the borrowed bytes.
#[derive(Debug, Clone, Copy)]
pub struct ResultView<'a> {
    bytes: &'a [u8],
    timings_at: usize,
    timing_count: usize,
    poses_at: usize,
    pose_count: usize,
    /// Echoed sequence number.
    pub sequence: u64,
    /// Echoed capture timestamp (µs, client clock).
    pub capture_ts_us: i64,
    /// Server receive time (µs since the Unix epoch).
    pub server_recv_us: u64,
    /// Inference start.
    pub server_start_us: u64,
    /// Inference end.
    pub server_end_us: u64,
    /// Frames dropped so far.
    pub frames_dropped: u64,
    /// Flags.
    pub flags: ResultFlags,
}

impl<'a> ResultView<'a> {
    /// Parses and validates a result message with the default [`Limits`].
    pub fn parse(bytes: &'a [u8]) -> Result<Self, WireError> {
        Self::parse_with(bytes, &Limits::default())
    }

    /// Parses and validates a result message, enforcing `limits`. Every record is checked
    /// here, so the accessors never fail.
    pub fn parse_with(bytes: &'a [u8], limits: &Limits) -> Result<Self, WireError> {
        let header_len = parse_preamble(bytes, MessageType::Result, RESULT_HEADER_LEN, limits)?;
        let f = Fields::new(bytes);
        let timing_count = usize::from(f.u16(58, "timing count")?);
        let pose_count = usize::from(f.u16(60, "pose count")?);
        let timings_at = header_len;
        let poses_at = timings_at + timing_count * 4;
        f.slice(timings_at, timing_count * 4, "timings")?;
        let mut at = poses_at;
        for _ in 0..pose_count {
            let record = record_at(bytes, at, POSE_HEADER_LEN, "pose record")?;
            PoseView::parse(record)?;
            at += record.len();
        }
        Ok(ResultView {
            bytes,
            timings_at,
            timing_count,
            poses_at,
            pose_count,
            sequence: f.u64(8, "sequence")?,
            capture_ts_us: f.i64(16, "capture timestamp")?,
            server_recv_us: f.u64(24, "server receive time")?,
            server_start_us: f.u64(32, "server start time")?,
            server_end_us: f.u64(40, "server end time")?,
            frames_dropped: f.u64(48, "frames dropped")?,
            flags: ResultFlags::from_bits_retain(f.u16(56, "flags")?),
        })
    }

    /// Stage timings (stages the sender did not include read as 0).
    pub fn timings(&self) -> StageTimings {
        let mut values = [0u32; StageTimings::COUNT];
        for (i, v) in values.iter_mut().enumerate().take(self.timing_count) {
            let at = self.timings_at + i * 4;
            *v = self
                .bytes
                .get(at..at + 4)
                .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        }
        StageTimings::from_slice(&values)
    }

    /// Number of poses.
    pub fn pose_count(&self) -> usize {
        self.pose_count
    }

    /// The poses, in order.
    pub fn poses(&self) -> impl Iterator<Item = PoseView<'a>> + 'a {
        walk_records(
            self.bytes,
            self.poses_at,
            self.pose_count,
            POSE_HEADER_LEN,
            "pose record",
        )
        .filter_map(|record| PoseView::parse(record).ok())
    }

    /// Copies into an owned [`ResultMessage`].
    pub fn to_message(&self) -> ResultMessage {
        ResultMessage {
            sequence: self.sequence,
            capture_ts_us: self.capture_ts_us,
            server_recv_us: self.server_recv_us,
            server_start_us: self.server_start_us,
            server_end_us: self.server_end_us,
            frames_dropped: self.frames_dropped,
            flags: self.flags,
            timings: self.timings(),
            poses: self.poses().map(|p| p.to_pose()).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample_pose(id: u32, with_hand: bool) -> Pose {
        Pose {
            id,
            score: 0.9,
            bbox: BoundingBox {
                x_min: 0.1,
                y_min: 0.2,
                x_max: 0.6,
                y_max: 0.9,
            },
            landmarks: (0..33)
                .map(|i| Landmark {
                    x: i as f32 / 33.0,
                    y: 0.5,
                    z: -0.1,
                    visibility: 0.9,
                    presence: 0.95,
                })
                .collect(),
            world_landmarks: (0..33)
                .map(|i| Point3 {
                    x: i as f32 * 0.01,
                    y: -0.5,
                    z: 0.02,
                })
                .collect(),
            angles: vec![
                JointAngle {
                    joint: Joint::LeftElbow,
                    degrees: 91.5,
                },
                JointAngle {
                    joint: Joint::TrunkLean,
                    degrees: 4.0,
                },
            ],
            hands: if with_hand {
                vec![Hand {
                    handedness: Handedness::Right,
                    score: 0.8,
                    landmarks: vec![Point3::default(); 21],
                    world_landmarks: vec![],
                }]
            } else {
                vec![]
            },
        }
    }

    fn sample() -> ResultMessage {
        ResultMessage {
            sequence: 9,
            capture_ts_us: 123,
            server_recv_us: 1000,
            server_start_us: 1001,
            server_end_us: 1010,
            frames_dropped: 4,
            flags: ResultFlags::DETECTOR_RAN,
            timings: StageTimings::from_slice(&[1, 2, 3, 4, 5, 6, 21]),
            poses: vec![sample_pose(1, true), sample_pose(2, false)],
        }
    }

    #[test]
    fn round_trip_and_alignment() {
        let msg = sample();
        let bytes = msg.to_bytes().unwrap();
        let view = ResultView::parse(&bytes).unwrap();
        assert_eq!(view.to_message(), msg);
        let pose = view.poses().next().unwrap();
        let offset = pose.landmarks().as_bytes().as_ptr() as usize - bytes.as_ptr() as usize;
        assert_eq!(offset % 4, 0);
        assert_eq!(pose.landmarks().len(), 33);
        assert_eq!(pose.angles().get(1).unwrap().joint, Joint::TrunkLean);
        assert_eq!(pose.hands().count(), 1);
    }

    #[test]
    fn truncation_anywhere_is_an_error() {
        let bytes = sample().to_bytes().unwrap();
        for len in 0..bytes.len() {
            assert!(ResultView::parse(&bytes[..len]).is_err(), "len {len}");
        }
    }

    #[test]
    fn record_length_lies_are_caught() {
        let bytes = sample().to_bytes().unwrap();
        let pose_at = RESULT_HEADER_LEN + 7 * 4;
        let mut short = bytes.clone();
        // Record length smaller than its arrays.
        short[pose_at..pose_at + 4].copy_from_slice(&44u32.to_le_bytes());
        assert!(matches!(
            ResultView::parse(&short),
            Err(WireError::Inconsistent(_))
        ));
        let mut odd = bytes.clone();
        odd[pose_at..pose_at + 4].copy_from_slice(&41u32.to_le_bytes());
        assert!(matches!(
            ResultView::parse(&odd),
            Err(WireError::Inconsistent(_))
        ));
        let mut many = bytes;
        many[pose_at + 6..pose_at + 8].copy_from_slice(&60000u16.to_le_bytes());
        assert!(matches!(
            ResultView::parse(&many),
            Err(WireError::Inconsistent(_))
        ));
    }

    #[test]
    fn later_additions_are_skipped() {
        // A newer sender: bigger header, 9 timings, a longer pose header, trailing section.
        let msg = sample();
        let mut bytes = msg.to_bytes().unwrap();
        bytes[6..8].copy_from_slice(&72u16.to_le_bytes());
        bytes.splice(64..64, [0xAB; 8]);
        bytes[58..60].copy_from_slice(&9u16.to_le_bytes());
        bytes.splice(72 + 28..72 + 28, [0, 0, 0, 0, 0, 0, 0, 0]);
        let pose_at = 72 + 36;
        let pose_len = u32::from_le_bytes(bytes[pose_at..pose_at + 4].try_into().unwrap()) + 4;
        bytes[pose_at..pose_at + 4].copy_from_slice(&pose_len.to_le_bytes());
        bytes[pose_at + 4..pose_at + 6].copy_from_slice(&44u16.to_le_bytes());
        bytes.splice(pose_at + 40..pose_at + 40, [0xCD; 4]);
        bytes.extend_from_slice(&[0xEF; 16]);
        let view = ResultView::parse(&bytes).unwrap();
        assert_eq!(view.to_message(), msg);
    }

    #[test]
    fn encode_reuses_the_buffer() {
        let msg = sample();
        let mut out = Vec::new();
        msg.encode_into(&mut out).unwrap();
        let (ptr, cap) = (out.as_ptr(), out.capacity());
        msg.encode_into(&mut out).unwrap();
        assert_eq!((out.as_ptr(), out.capacity()), (ptr, cap));
    }
}
