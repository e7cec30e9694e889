//! Annotated frames: a room camera's frames with the skeletons drawn by the server and
//! JPEG-encoded once for every viewer that asked (`?frames=annotated`,
//! `GET /rooms/{room}/mjpeg`), never once per viewer. The drawing is done off the inference
//! workers: a worker hands over a copy of the frame it decoded (latest wins) and a
//! short-lived thread draws and encodes while frames keep coming, then ends. Frames larger
//! than [`MAX_SHORT_SIDE`] are scaled down first: a preview for people, and JPEG encoding
//! grows with the pixels (a 1920x1080 frame costs several times a 960x540 one).

use std::sync::Arc;

use axum::body::Bytes;
use livepose_core::image::{
    draw_poses, encode_jpeg, Downscaler, DrawStyle, PixelLayout, RgbImage, RgbView,
};
use livepose_core::types::Pose;
use parking_lot::Mutex;

/// JPEG quality of annotated frames.
pub(crate) const QUALITY: u8 = 75;
/// Annotated frames are at most this high (landscape) or wide (portrait).
pub(crate) const MAX_SHORT_SIDE: u32 = 540;

/// A frame to draw on and the poses to draw.
#[derive(Debug)]
struct Job {
    image: RgbImage,
    poses: Vec<Pose>,
}

impl Job {
    fn render(mut self, downscaler: &mut Downscaler, out: &mut Vec<u8>) -> Option<Bytes> {
        let (w, h) = (self.image.width(), self.image.height());
        if Downscaler::target_size(w, h, MAX_SHORT_SIDE) != (w, h) {
            let small = downscaler.to_short_side(self.image.view(), MAX_SHORT_SIDE);
            let mut copy = RgbImage::new();
            let copied = small.and_then(|small| {
                copy.copy_from_raw(
                    PixelLayout::Rgb8,
                    small.width(),
                    small.height(),
                    small.data(),
                )
            });
            if let Err(e) = copied {
                tracing::warn!("annotated frame not scaled: {e}");
                return None;
            }
            self.image = copy;
        }
        draw_poses(&mut self.image, &self.poses, &DrawStyle::default());
        match encode_jpeg(self.image.view(), QUALITY, out) {
            Ok(()) => Some(Bytes::copy_from_slice(out)),
            Err(e) => {
                tracing::warn!("annotated frame not encoded: {e}");
                None
            }
        }
    }
}

#[derive(Debug, Default)]
struct State {
    /// The newest frame not yet drawn.
    pending: Option<Job>,
    /// A drawing thread is running (it takes `pending` until there is none, then ends).
    running: bool,
    /// Frames replaced before they were drawn.
    dropped: u64,
    /// Frames drawn and encoded.
    drawn: u64,
}

/// Draws and encodes one room's frames, latest wins.
#[derive(Debug, Default)]
pub(crate) struct Annotator {
    state: Arc<Mutex<State>>,
}

impl Annotator {
    /// Hands over `frame` (copied) and its `poses`; `publish` gets the JPEG if this call
    /// starts the drawing thread (a running one keeps the sink it started with).
    pub(crate) fn submit(
        &self,
        frame: RgbView<'_>,
        poses: &[Pose],
        publish: impl FnMut(Bytes) + Send + 'static,
    ) {
        let mut image = RgbImage::new();
        let copied = image.copy_from_raw(
            PixelLayout::Rgb8,
            frame.width(),
            frame.height(),
            frame.data(),
        );
        if copied.is_err() {
            return; // An empty frame: nothing was decoded.
        }
        let job = Job {
            image,
            poses: poses.to_vec(),
        };
        let mut state = self.state.lock();
        if state.pending.replace(job).is_some() {
            state.dropped += 1;
        }
        if state.running {
            return;
        }
        state.running = true;
        drop(state);
        let shared = self.state.clone();
        let spawned = std::thread::Builder::new()
            .name("livepose-annotate".into())
            .spawn(move || draw_while_pending(&shared, publish));
        if let Err(e) = spawned {
            tracing::warn!("no thread to draw annotated frames: {e}");
            let mut state = self.state.lock();
            state.running = false;
            state.pending = None;
        }
    }

    /// Frames drawn and encoded, and frames replaced before they were drawn (the drawing
    /// was slower than inference).
    pub(crate) fn counts(&self) -> (u64, u64) {
        let state = self.state.lock();
        (state.drawn, state.dropped)
    }
}

/// The drawing thread: draws what is pending until nothing is, then ends.
fn draw_while_pending(state: &Mutex<State>, mut publish: impl FnMut(Bytes)) {
    let mut buffer = Vec::new();
    let mut downscaler = Downscaler::new();
    loop {
        let job = {
            let mut state = state.lock();
            match state.pending.take() {
                Some(job) => {
                    state.drawn += 1;
                    job
                }
                None => {
                    state.running = false;
                    return;
                }
            }
        };
        if let Some(jpeg) = job.render(&mut downscaler, &mut buffer) {
            publish(jpeg);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use livepose_core::image::{Codec, DecoderConfig, ImageDecoder};
    use livepose_core::types::Landmark;
    use std::sync::mpsc;
    use std::time::Duration;

    #[test]
    fn frames_come_out_drawn_as_jpeg_and_the_thread_ends_when_idle() {
        let annotator = Annotator::default();
        let pixels = vec![0u8; 64 * 48 * 3];
        let frame = RgbView::new(64, 48, &pixels).unwrap();
        let landmark = Landmark {
            x: 0.5,
            y: 0.5,
            visibility: 1.0,
            presence: 1.0,
            ..Landmark::default()
        };
        let pose = Pose {
            landmarks: vec![landmark; 33],
            ..Pose::default()
        };
        let (tx, rx) = mpsc::channel();
        annotator.submit(frame, std::slice::from_ref(&pose), move |jpeg| {
            let _ = tx.send(jpeg);
        });
        let jpeg = rx.recv_timeout(Duration::from_secs(10)).expect("a frame");
        assert_eq!(Codec::sniff(&jpeg), Some(Codec::Jpeg));
        let mut decoded = RgbImage::new();
        ImageDecoder::new(DecoderConfig::default())
            .decode(&jpeg, &mut decoded)
            .unwrap();
        let centre = ((24 * 64 + 32) * 3) as usize;
        assert!(decoded.data()[centre] > 200, "the joint is drawn white");
        // The thread ends once nothing is pending: the sender it held is dropped.
        assert!(rx.recv_timeout(Duration::from_secs(10)).is_err());
        assert!(!annotator.state.lock().running);
    }

    #[test]
    fn large_frames_are_scaled_to_the_preview_size() {
        let annotator = Annotator::default();
        let pixels = vec![90u8; 1920 * 1080 * 3];
        let (tx, rx) = mpsc::channel();
        annotator.submit(
            RgbView::new(1920, 1080, &pixels).unwrap(),
            &[],
            move |jpeg| {
                let _ = tx.send(jpeg);
            },
        );
        let jpeg = rx.recv_timeout(Duration::from_secs(10)).expect("a frame");
        let mut decoded = RgbImage::new();
        ImageDecoder::new(DecoderConfig::default())
            .decode(&jpeg, &mut decoded)
            .unwrap();
        assert_eq!((decoded.width(), decoded.height()), (960, 540));
    }
}
