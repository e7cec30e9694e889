//! Hands against MediaPipe's own Hand Landmarker (`tests/data/hand-reference/`, made by
//! `scripts/make-hand-reference.py`: mediapipe 1.2.2's Tasks API, image mode, run on a crop
//! around each wrist of MediaPipe's own pose). livepose's `Pipeline` runs in image mode with
//! hands on the same frames; its hands are matched to MediaPipe's by the wrist, and the
//! landmark error is the mean pixel distance over the 21 landmarks divided by the diagonal
//! of MediaPipe's hand's landmark box (the hand size).
//!
//! Prints, per clip and pose side: hands each found, the share of MediaPipe's hands livepose
//! finds too (and the reverse), the error's median and 95th percentile. The regions differ by
//! design (livepose's come from the pose and from tracking, MediaPipe's from its palm
//! detector), and on these small hands the landmark model's output moves with its region, so
//! two controls on the region MediaPipe tracks to (derived from its own landmarks, recorded by
//! the script): MediaPipe's landmarks there against its palm-region ones (how much the region
//! alone moves MediaPipe), and livepose's hand landmark model run on that same region against
//! MediaPipe's (the implementation difference). Asserts what holds with margin: the data
//! loads, livepose finds most of MediaPipe's hands, the median error is bounded loosely, and
//! on the same region the landmarks agree closely; no timings.

use std::io::{BufRead, BufReader};

use livepose_core::image::RgbView;
use livepose_core::inference::hand_landmarks::{HandLandmarker, HandOutput};
use livepose_core::inference::roi::{hand_rect_from_landmarks, HAND_LANDMARKS_TO_HAND};
use livepose_core::inference::{Frame, ModelSource, Pipeline, SessionConfig};
use livepose_core::types::Handedness;
use livepose_core::wire::control::{ModelKind, RunMode, SmoothingKind};
use livepose_test_support::{data, frames, reference};

/// A wrist within this many hand sizes of the other's is the same hand (hands are matched by
/// wrist position, nearest pairs first, whatever their sides).
const SAME_HAND: f32 = 1.0;

/// One hand, in pixels.
#[derive(Debug, Clone)]
struct RefHand {
    /// The pose wrist it was found at: left (15) or right (16).
    side: Handedness,
    /// MediaPipe's handedness label ("Left" or "Right").
    label: String,
    points: Vec<[f32; 2]>,
    /// What MediaPipe's landmark model gives, tracking, on the region it derives from
    /// `points` (see `Tracker` in the script), when recorded.
    tracked: Option<Vec<[f32; 2]>>,
}

/// A hand reference file: clip size, sampling step and, per sampled frame, the hands.
struct HandReference {
    width: u32,
    height: u32,
    num_poses: usize,
    frames: Vec<(usize, Vec<RefHand>)>,
}

fn load(clip: &str) -> HandReference {
    let path = data::repo_root()
        .join("livepose-core/tests/data/hand-reference")
        .join(format!("{clip}.hands.jsonl.gz"));
    let file = std::fs::File::open(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (livepose-core/tests/data/hand-reference/ is part of the checkout)",
            path.display()
        )
    });
    let text = BufReader::new(flate2::read::GzDecoder::new(file));
    let mut lines = text.lines().map(|l| l.expect("gzip text"));
    let header: serde_json::Value = serde_json::from_str(&lines.next().expect("header")).unwrap();
    let (width, height) = (
        header["width"].as_u64().unwrap() as u32,
        header["height"].as_u64().unwrap() as u32,
    );
    let pose_file = header["pose"].as_str().expect("pose reference name");
    let num_poses = reference::load_reference(pose_file)
        .frames
        .iter()
        .map(Vec::len)
        .max()
        .unwrap_or(1);
    let frames = lines
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(&line).unwrap();
            let hands = v["hands"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| RefHand {
                    side: match h["pose_side"].as_str().unwrap() {
                        "left" => Handedness::Left,
                        _ => Handedness::Right,
                    },
                    label: h["handedness"].as_str().unwrap().to_string(),
                    points: pixels(&h["landmarks"], width, height).unwrap(),
                    tracked: pixels(&h["tracked"], width, height),
                })
                .collect::<Vec<_>>();
            assert!(hands
                .iter()
                .all(|h| h.points.len() == 21 && h.tracked.as_ref().is_none_or(|t| t.len() == 21)));
            (v["frame"].as_u64().unwrap() as usize, hands)
        })
        .collect();
    HandReference {
        width,
        height,
        num_poses,
        frames,
    }
}

/// Normalised [x, y] pairs in pixels (None when `v` is not an array).
fn pixels(v: &serde_json::Value, width: u32, height: u32) -> Option<Vec<[f32; 2]>> {
    let (w, h) = (width as f32, height as f32);
    v.as_array().map(|a| {
        a.iter()
            .map(|l| {
                [
                    l[0].as_f64().unwrap() as f32 * w,
                    l[1].as_f64().unwrap() as f32 * h,
                ]
            })
            .collect()
    })
}

/// The frames of `clip` at `indices` (ascending) as packed RGB8, decoded by ffmpeg at the
/// clip's own size as the reference was (only the wanted frames are kept).
fn frames_at(clip: &str, width: u32, height: u32, indices: &[usize]) -> Vec<Vec<u8>> {
    let input = data::clip(&format!("{clip}.mp4"));
    let count = indices.last().unwrap() + 1;
    let mut out = Vec::new();
    frames::for_each_rgb_frame(&input, None, Some(count), width, height, |i, rgb| {
        if indices.binary_search(&i).is_ok() {
            out.push(rgb.to_vec());
        }
    });
    assert_eq!(out.len(), indices.len(), "frames {indices:?} of {clip}");
    out
}

/// Diagonal of the points' box.
fn size(points: &[[f32; 2]]) -> f32 {
    let (mut x0, mut y0, mut x1, mut y1) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
    for p in points {
        x0 = x0.min(p[0]);
        y0 = y0.min(p[1]);
        x1 = x1.max(p[0]);
        y1 = y1.max(p[1]);
    }
    (x1 - x0).hypot(y1 - y0)
}

fn mean_distance(a: &[[f32; 2]], b: &[[f32; 2]]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(p, q)| (p[0] - q[0]).hypot(p[1] - q[1]))
        .sum::<f32>()
        / a.len() as f32
}

/// Per pose side: MediaPipe's hands, livepose's hands, matched pairs' errors (hand sizes),
/// MediaPipe's label agreeing with the pose side; and on MediaPipe's tracking region: how far
/// MediaPipe's tracked landmarks are from its palm-region ones (`mp_self`), how far
/// livepose's landmark model on that same region is from MediaPipe's (`same_region`), and
/// how often livepose's reading of the handedness output there names MediaPipe's label.
#[derive(Default)]
struct Side {
    reference: usize,
    ours: usize,
    errors: Vec<f32>,
    label_agrees: usize,
    mp_self: Vec<f32>,
    same_region: Vec<f32>,
    same_label: usize,
}

fn compare(clip: &str) -> [Side; 2] {
    let r = load(clip);
    let indices: Vec<usize> = r.frames.iter().map(|(i, _)| *i).collect();
    let frames = frames_at(clip, r.width, r.height, &indices);
    let mut pipeline = Pipeline::builder()
        .model(ModelKind::Full)
        .smoothing(SmoothingKind::None)
        .mode(RunMode::Image)
        .num_poses(r.num_poses)
        .hands(true)
        .models_dir(data::models())
        .build()
        .unwrap();
    let mut landmarker = HandLandmarker::load(
        ModelSource::Path(&data::model("hand_landmark_full.onnx")),
        &SessionConfig::default(),
    )
    .unwrap();
    let mut output = HandOutput::default();
    let (w, h) = (r.width as f32, r.height as f32);
    let mut sides: [Side; 2] = Default::default();
    let slot = |s: Handedness| usize::from(s == Handedness::Right);
    for ((_, references), pixels) in r.frames.iter().zip(&frames) {
        let image = RgbView::new(r.width, r.height, pixels).unwrap();
        let result = pipeline.process(Frame::Rgb(image), None).unwrap();
        let ours: Vec<(Handedness, Vec<[f32; 2]>)> = result
            .poses
            .iter()
            .flat_map(|p| &p.hands)
            .map(|hand| {
                let points = hand.landmarks.iter().map(|l| [l.x * w, l.y * h]).collect();
                (hand.handedness, points)
            })
            .collect();
        for (side, _) in &ours {
            sides[slot(*side)].ours += 1;
        }
        for hand in references {
            let side = &mut sides[slot(hand.side)];
            side.reference += 1;
            side.label_agrees +=
                usize::from((hand.label == "Left") == (hand.side == Handedness::Left));
            if let Some(tracked) = &hand.tracked {
                let hand_size = size(&hand.points);
                side.mp_self
                    .push(mean_distance(&hand.points, tracked) / hand_size);
                let roi = HAND_LANDMARKS_TO_HAND.apply(&hand_rect_from_landmarks(&hand.points));
                landmarker.run(image, &roi, &mut output).unwrap();
                let ours: Vec<[f32; 2]> = output
                    .landmarks
                    .iter()
                    .map(|l| [l.x * w, l.y * h])
                    .collect();
                side.same_region
                    .push(mean_distance(&ours, tracked) / hand_size);
                // `left_label` is the model's first output: "Left" in MediaPipe's legacy,
                // mirrored convention, the person's right hand, which mediapipe 1.2.2's
                // Tasks graph labels "Right".
                let ours_left = 1.0 - output.left_label >= 0.5;
                side.same_label += usize::from(ours_left == (hand.label == "Left"));
            }
        }
        // Greedy matching by wrist distance, nearest pairs first, within SAME_HAND sizes.
        let mut pairs: Vec<(f32, usize, usize)> = Vec::new();
        for (i, hand) in references.iter().enumerate() {
            let hand_size = size(&hand.points);
            for (j, (_, points)) in ours.iter().enumerate() {
                let d = mean_distance(&hand.points[..1], &points[..1]) / hand_size;
                if d <= SAME_HAND {
                    pairs.push((d, i, j));
                }
            }
        }
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (mut used_ref, mut used_ours) =
            (vec![false; references.len()], vec![false; ours.len()]);
        for (_, i, j) in pairs {
            if used_ref[i] || used_ours[j] {
                continue;
            }
            used_ref[i] = true;
            used_ours[j] = true;
            let hand = &references[i];
            sides[slot(hand.side)]
                .errors
                .push(mean_distance(&hand.points, &ours[j].1) / size(&hand.points));
        }
    }
    for (name, side) in ["left", "right"].iter().zip(&sides) {
        println!(
            "| {clip} | {name} | {} | {} | {} | {:.0}% | {:.0}% | {:.4} | {:.4} | {:.0}% | {} | {:.4} / {:.4} | {:.4} / {:.4} | {:.0}% |",
            side.reference,
            side.ours,
            side.errors.len(),
            100.0 * side.errors.len() as f64 / side.reference.max(1) as f64,
            100.0 * side.errors.len() as f64 / side.ours.max(1) as f64,
            reference::quantile(&side.errors, 0.5),
            reference::quantile(&side.errors, 0.95),
            100.0 * side.label_agrees as f64 / side.reference.max(1) as f64,
            side.same_region.len(),
            reference::quantile(&side.mp_self, 0.5),
            reference::quantile(&side.mp_self, 0.95),
            reference::quantile(&side.same_region, 0.5),
            reference::quantile(&side.same_region, 0.95),
            100.0 * side.same_label as f64 / side.same_region.len().max(1) as f64,
        );
    }
    sides
}

const CLIPS: [&str; 6] = [
    "lab_dance_1080x1920_60fps",
    "multi_two_dancers_1088x1920_60fps",
    "multi_cam01_1088x1920_60fps",
    "multi_cam03_1088x1920_60fps",
    "multi_cam04_1088x1920_60fps",
    "outdoor_two_people_1768x994_30fps",
];

#[test]
fn hands_agree_with_mediapipe_hand_landmarker() {
    println!(
        "| clip | pose side | MediaPipe hands | livepose hands | matched | of MediaPipe's | of livepose's | error median | error p95 | MediaPipe label = pose side | tracked by MediaPipe | MediaPipe tracked vs palm region, median / p95 | livepose on MediaPipe's tracking region, median / p95 | livepose handedness = MediaPipe's there |"
    );
    println!(
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    );
    let (mut reference, mut ours, mut errors) = (0, 0, Vec::new());
    let (mut mp_self, mut same_region, mut same_label) = (Vec::new(), Vec::new(), 0);
    for clip in CLIPS {
        for side in compare(clip) {
            reference += side.reference;
            ours += side.ours;
            errors.extend(side.errors);
            mp_self.extend(side.mp_self);
            same_region.extend(side.same_region);
            same_label += side.same_label;
        }
    }
    let (median, p95) = (
        reference::quantile(&errors, 0.5),
        reference::quantile(&errors, 0.95),
    );
    println!(
        "| all | both | {reference} | {ours} | {} | {:.0}% | {:.0}% | {median:.4} | {p95:.4} | | {} | {:.4} / {:.4} | {:.4} / {:.4} | {:.0}% |",
        errors.len(),
        100.0 * errors.len() as f64 / reference as f64,
        100.0 * errors.len() as f64 / ours as f64,
        same_region.len(),
        reference::quantile(&mp_self, 0.5),
        reference::quantile(&mp_self, 0.95),
        reference::quantile(&same_region, 0.5),
        reference::quantile(&same_region, 0.95),
        100.0 * same_label as f64 / same_region.len().max(1) as f64,
    );
    assert!(reference > 0, "MediaPipe's hands loaded");
    // Measured when this was written: 81%, 0.049 (the regions differ by design: on these
    // small hands MediaPipe itself moves 0.036 between its palm and tracking regions).
    assert!(
        errors.len() * 10 >= reference * 6,
        "livepose found {} of MediaPipe's {reference} hands",
        errors.len()
    );
    assert!(median <= 0.1, "median landmark error {median}");
    // On MediaPipe's own region the landmark model agrees closely (measured: median 0.0019,
    // p95 0.0099, handedness 90%): crop, model and decoding match MediaPipe's.
    let (same_median, same_p95) = (
        reference::quantile(&same_region, 0.5),
        reference::quantile(&same_region, 0.95),
    );
    assert!(
        same_region.len() * 10 >= reference * 9,
        "{} tracked",
        same_region.len()
    );
    assert!(same_median <= 0.01, "same region median {same_median}");
    assert!(same_p95 <= 0.05, "same region p95 {same_p95}");
    assert!(
        same_label * 4 >= same_region.len() * 3,
        "handedness agrees on {same_label} of {}",
        same_region.len()
    );
}
