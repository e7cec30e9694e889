//! Hands of the people the pose pipeline finds, as MediaPipe Holistic places them: each hand
//! is looked for where the pose's wrist, pinky and index landmarks say it is, then tracked
//! from its own landmarks, with the palm detector as the fallback.
//!
//! Per person and side, each frame:
//! 1. The pose's wrist must be visible (visibility ≥ 0.1, Holistic's
//!    `HandVisibilityFromHandLandmarksFromPose`); otherwise there is no hand and its
//!    tracking resets.
//! 2. The pose gives a hand rectangle (Holistic's `HandDetectionsFromPoseToRectsCalculator`)
//!    and, 2.7 times larger, the region the hand must be in
//!    ([`POSE_TO_HAND_SEARCH`]).
//! 3. The hand landmark model runs on the first of these regions that holds a hand
//!    (presence ≥ 0.5): the region tracked from last frame's hand landmarks, if those
//!    landmarks lie inside the search region shrunk by 10% (Holistic's `RoiTrackingCalculator`
//!    landmark requirement); the region derived from the pose ([`POSE_TO_HAND`]); the region
//!    of the palm the palm detector finds in the search region, nearest to the pose's hand.
//!    After the palm detector finds nothing for a hand it rests for that hand for
//!    10 frames (live mode; the pose-derived region is still tried every frame).
//!
//! Holistic refines the pose-derived rectangle with a re-crop model (`hand_recrop.tflite`)
//! that is not among the models livepose ships for; [`POSE_TO_HAND`] replaces it with a fixed
//! transform fitted to where tracked hands actually are on the shared clips, and the palm
//! detector covers the frames where that guess misses. MediaPipe does not smooth hand
//! landmarks, and neither does livepose.

use super::hand_landmarks::{HandLandmarker, HandOutput, HAND_LANDMARKS};
use super::palm::PalmDetector;
use super::roi::{
    hand_rect_from_landmarks, hand_rect_from_pose, RectTransform, HAND_LANDMARKS_TO_HAND,
    POSE_TO_HAND_SEARCH,
};
use super::session::{InferenceError, ModelSource, SessionConfig};
use crate::image::{RgbView, RotatedRect};
use crate::types::{Hand, Handedness, Landmark};

/// Pose-derived hand rectangle to the region the hand landmark model sees (see the module
/// docs: it stands in for Holistic's re-crop model). Fitted on the shared clips: over 614
/// hands found, the region tracked from the hand's own landmarks was a median 1.40 times the
/// pose-derived rectangle (quartiles 1.33 and 1.49), centred on it (median offsets 0.01 and
/// 0.02 of its side).
pub const POSE_TO_HAND: RectTransform = RectTransform {
    scale: 1.4,
    shift_x: 0.0,
    shift_y: 0.0,
};

/// Minimum pose wrist visibility for a hand to be looked for.
const MIN_WRIST_VISIBILITY: f32 = 0.1;
/// Minimum hand presence.
const MIN_HAND_PRESENCE: f32 = 0.5;
/// Margin of the search region that tracked landmarks must stay inside (negative: shrink).
const TRACKING_MARGIN: f32 = -0.1;
/// Frames a hand waits before the palm detector looks for it again after finding nothing
/// (live mode). The palm detector costs two to four hand landmark runs, and a hand the pose
/// says is there but no model finds (out of frame, hidden, too small) would otherwise pay it
/// on every frame; the pose-derived region is still tried on every frame.
const PALM_RETRY_FRAMES: u8 = 10;

/// Pose landmarks of each side: wrist, pinky, index.
const POSE_HAND_POINTS: [(Handedness, [usize; 3]); 2] = [
    (Handedness::Left, [15, 17, 19]),
    (Handedness::Right, [16, 18, 20]),
];

/// Which region a hand was found in (for tests and statistics).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandSource {
    /// Tracked from the previous frame's hand landmarks.
    Tracked,
    /// Derived from the pose.
    Pose,
    /// From the palm detector.
    Palm,
}

/// What [`HandFinder::find`] did for one person.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct HandReport {
    /// Where the left and right hands came from (`None`: no hand).
    pub sources: [Option<HandSource>; 2],
    /// For each hand found, the handedness classifier's probability that it is a left hand
    /// (in an unmirrored image; MediaPipe's label "Right", whose model assumes selfie
    /// images). The hand's [`Handedness`] comes from the pose side it was found at; this is
    /// the model's independent opinion.
    pub left_probability: [Option<f32>; 2],
    /// The palm detector ran.
    pub palm_ran: bool,
}

/// Tracking state of one hand.
#[derive(Debug, Clone, Default)]
pub struct HandTrack {
    /// Region for the next frame, from this frame's hand landmarks.
    roi: Option<RotatedRect>,
    /// This frame's landmarks in pixels.
    previous: [[f32; 2]; HAND_LANDMARKS],
    /// Frames until the palm detector may run again for this hand.
    palm_wait: u8,
}

impl HandTrack {
    /// Forgets the hand.
    pub fn reset(&mut self) {
        self.roi = None;
        self.palm_wait = 0;
    }
}

/// The hand models and their reused buffers.
#[derive(Debug)]
pub struct HandFinder {
    palm: PalmDetector,
    landmarker: HandLandmarker,
    output: HandOutput,
}

impl HandFinder {
    /// Loads a palm detector and a hand landmark model.
    pub fn load(
        palm: ModelSource<'_>,
        landmarks: ModelSource<'_>,
        config: &SessionConfig,
    ) -> Result<Self, InferenceError> {
        Ok(HandFinder {
            palm: PalmDetector::load(palm, config)?,
            landmarker: HandLandmarker::load(landmarks, config)?,
            output: HandOutput::default(),
        })
    }

    /// Finds the hands of one person from their pose `landmarks` (33, normalised), updating
    /// the two tracks (left, right) and writing the hands found into `hands` (reusing its
    /// elements).
    pub fn find(
        &mut self,
        image: RgbView<'_>,
        landmarks: &[Landmark],
        tracks: &mut [HandTrack; 2],
        hands: &mut Vec<Hand>,
    ) -> Result<HandReport, InferenceError> {
        let mut report = HandReport::default();
        let mut count = 0;
        for (i, ((side, points), track)) in POSE_HAND_POINTS.iter().zip(tracks).enumerate() {
            report.sources[i] =
                self.find_one(image, landmarks, *points, track, &mut report.palm_ran)?;
            if report.sources[i].is_none() {
                continue;
            }
            report.left_probability[i] = Some(1.0 - self.output.left_label);
            if hands.len() <= count {
                hands.push(Hand::default());
            }
            let hand = &mut hands[count];
            hand.handedness = *side;
            hand.score = self.output.presence;
            hand.landmarks.clear();
            hand.landmarks.extend_from_slice(&self.output.landmarks);
            hand.world_landmarks.clear();
            hand.world_landmarks.extend_from_slice(&self.output.world);
            count += 1;
        }
        hands.truncate(count);
        Ok(report)
    }

    fn find_one(
        &mut self,
        image: RgbView<'_>,
        landmarks: &[Landmark],
        [wrist, pinky, index]: [usize; 3],
        track: &mut HandTrack,
        palm_ran: &mut bool,
    ) -> Result<Option<HandSource>, InferenceError> {
        let (w, h) = (image.width() as f32, image.height() as f32);
        let point = |i: usize| landmarks.get(i).map(|l| [l.x * w, l.y * h]);
        let visible = landmarks
            .get(wrist)
            .is_some_and(|l| l.visibility >= MIN_WRIST_VISIBILITY);
        let (Some(wrist), Some(pinky), Some(index), true) =
            (point(wrist), point(pinky), point(index), visible)
        else {
            track.reset();
            return Ok(None);
        };
        let palm_allowed = track.palm_wait == 0;
        track.palm_wait = track.palm_wait.saturating_sub(1);
        let from_pose = hand_rect_from_pose(wrist, pinky, index);
        let search = POSE_TO_HAND_SEARCH.apply(&from_pose);
        let mut found = None;
        if let Some(roi) = track
            .roi
            .filter(|_| inside(&track.previous, &search, TRACKING_MARGIN))
        {
            found = self
                .try_region(image, &roi, &search)?
                .then_some(HandSource::Tracked);
        }
        if found.is_none() {
            let roi = POSE_TO_HAND.apply(&from_pose);
            found = self
                .try_region(image, &roi, &search)?
                .then_some(HandSource::Pose);
        }
        if found.is_none() && palm_allowed {
            let near = [from_pose.center_x, from_pose.center_y];
            *palm_ran = true;
            if let Some(roi) = self.palm.hand_region(image, &search, near)? {
                found = self
                    .try_region(image, &roi, &search)?
                    .then_some(HandSource::Palm);
            }
            if found.is_none() {
                track.palm_wait = PALM_RETRY_FRAMES;
            }
        }
        if found.is_some() {
            track.palm_wait = 0;
            for (p, l) in track.previous.iter_mut().zip(&self.output.landmarks) {
                *p = [l.x * w, l.y * h];
            }
            track.roi =
                Some(HAND_LANDMARKS_TO_HAND.apply(&hand_rect_from_landmarks(&track.previous)));
        } else {
            track.roi = None;
        }
        Ok(found)
    }

    /// Runs the hand landmark model on `roi`; true if it holds a hand that lies inside
    /// `search` (where the pose says this hand is: a hand elsewhere is another hand, or the
    /// tracker drifting).
    fn try_region(
        &mut self,
        image: RgbView<'_>,
        roi: &RotatedRect,
        search: &RotatedRect,
    ) -> Result<bool, InferenceError> {
        if !(roi.width > 1.0 && roi.width.is_finite()) {
            return Ok(false);
        }
        self.landmarker.run(image, roi, &mut self.output)?;
        if self.output.presence < MIN_HAND_PRESENCE || self.output.landmarks.len() != HAND_LANDMARKS
        {
            return Ok(false);
        }
        let (w, h) = (image.width() as f32, image.height() as f32);
        let mut points = [[0.0f32; 2]; HAND_LANDMARKS];
        for (p, l) in points.iter_mut().zip(&self.output.landmarks) {
            *p = [l.x * w, l.y * h];
        }
        Ok(inside(&points, search, 0.0))
    }
}

/// Whether every point lies inside `rect` grown by `margin` (negative: shrunk; Holistic's
/// `LandmarksRequirementsSatisfied`), in the rectangle's own axes.
fn inside(points: &[[f32; 2]], rect: &RotatedRect, margin: f32) -> bool {
    let (sin, cos) = (-rect.rotation).sin_cos();
    let half_w = rect.width * (1.0 + margin) / 2.0;
    let half_h = rect.height * (1.0 + margin) / 2.0;
    points.iter().all(|p| {
        let (x, y) = (p[0] - rect.center_x, p[1] - rect.center_y);
        let (u, v) = (x * cos - y * sin, x * sin + y * cos);
        u.abs() < half_w && v.abs() < half_h
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inside_uses_the_rotated_axes_and_the_margin() {
        let rect = RotatedRect::new(100.0, 100.0, 100.0, 20.0, std::f32::consts::FRAC_PI_2);
        // Rotated a quarter turn: the long side runs vertically on screen.
        assert!(inside(
            &[[100.0, 140.0], [105.0, 60.0]],
            &rect,
            TRACKING_MARGIN
        ));
        assert!(!inside(&[[140.0, 100.0]], &rect, TRACKING_MARGIN));
        // 46 px from the centre: inside the rectangle (50) but not its 90% (45).
        assert!(!inside(&[[100.0, 146.0]], &rect, TRACKING_MARGIN));
        assert!(inside(&[[100.0, 146.0]], &rect, 0.0));
    }
}
