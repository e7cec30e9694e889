//! Landmark smoothing, livepose's smoothers against MediaPipe's own (a bench binary that
//! prints its table; `cargo bench --bench smoothing [-- full|lite]`):
//!
//! - **jitter** on a still person with camera noise: one frame of a clip held for 4 s with
//!   ffmpeg's temporal noise (`scripts/still-noise.sh`); per landmark the standard deviation
//!   of its position over time (x and y together, from the second second on), divided by the
//!   pose's size (the diagonal of the mean pose's bounding box), then the mean over the 33;
//! - **lag** on dancers: the time shift that best aligns a smoothed track with the unsmoothed
//!   one (livepose in live mode with smoothing `none`), least squares over the 33 landmarks,
//!   searched in 0.5 ms steps with linear interpolation between frames.
//!
//! MediaPipe's figures come from its Pose Landmarker in VIDEO mode on the same frames with
//! the same timestamps (`num_poses` 1: it smooths only then), committed under
//! `benches/data/smoothing/` (made by `scripts/smoothing-reference.py`): no mediapipe is
//! needed here. Its lag is measured against its own unsmoothed tracking (VIDEO mode with
//! `num_poses` 2, where it does not smooth; the pose nearest its smoothed one), as ours is
//! against our unsmoothed tracking; the table also gives it against livepose's unsmoothed
//! track and against MediaPipe's IMAGE mode.
//!
//! In test mode (`cargo test --benches`) it runs a few frames of two clips, full model only.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::Command;

use livepose_core::image::RgbView;
use livepose_core::inference::{Frame, Pipeline};
use livepose_core::options::SmoothingKind;
use livepose_core::wire::control::{ModelKind, RunMode};
use livepose_core::Timestamp;
use livepose_test_support::{data, frames};

/// The smoothers compared, unsmoothed first (the lag's reference).
const SMOOTHERS: [SmoothingKind; 4] = [
    SmoothingKind::None,
    SmoothingKind::OneEuro,
    SmoothingKind::Steady,
    SmoothingKind::Ema,
];

/// One person's 33 landmarks in pixels, per frame (`None`: no one found).
type Track = Vec<Option<Vec<[f64; 2]>>>;

/// A clip as MediaPipe saw it: its frames' size and timestamps, and MediaPipe's poses.
struct Reference {
    name: String,
    width: u32,
    height: u32,
    fps: f64,
    timestamps_ms: Vec<u64>,
    /// Per frame, every pose MediaPipe found (pixels).
    poses: Vec<Vec<Vec<[f64; 2]>>>,
    /// How the still clip was made (`scripts/still-noise.sh` arguments), none for a clip
    /// used as it is.
    still: Option<serde_json::Value>,
    clip: String,
}

fn reference_dir() -> PathBuf {
    data::repo_root().join("benches/data/smoothing")
}

/// Reads `<name>.<model>.<mode>.jsonl.gz`.
fn load_reference(name: &str, model: &str, mode: &str) -> Reference {
    let path = reference_dir().join(format!("{name}.{model}.{mode}.jsonl.gz"));
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = BufReader::new(flate2::read::GzDecoder::new(file)).lines();
    let header: serde_json::Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    let (width, height) = (
        header["width"].as_u64().unwrap() as u32,
        header["height"].as_u64().unwrap() as u32,
    );
    let (mut timestamps_ms, mut poses) = (Vec::new(), Vec::new());
    for line in lines {
        let frame: serde_json::Value = serde_json::from_str(&line.unwrap()).unwrap();
        timestamps_ms.push(frame["timestamp_ms"].as_u64().unwrap());
        poses.push(
            frame["poses"]
                .as_array()
                .unwrap()
                .iter()
                .map(|pose| {
                    pose["landmarks"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|l| {
                            [
                                l[0].as_f64().unwrap() * f64::from(width),
                                l[1].as_f64().unwrap() * f64::from(height),
                            ]
                        })
                        .collect()
                })
                .collect(),
        );
    }
    Reference {
        name: name.to_string(),
        width,
        height,
        fps: header["fps"].as_f64().unwrap(),
        timestamps_ms,
        poses,
        still: header.get("still").cloned(),
        clip: header["clip"].as_str().unwrap().to_string(),
    }
}

impl Reference {
    /// The first pose of each of the first `limit` frames (the one person of a
    /// `num_poses` 1 run).
    fn track(&self, limit: usize) -> Track {
        self.poses
            .iter()
            .take(limit)
            .map(|p| p.first().cloned())
            .collect()
    }

    /// Per frame, the pose nearest to `to`'s (mean squared landmark distance).
    fn nearest_track(&self, to: &Track) -> Track {
        self.poses
            .iter()
            .zip(to)
            .map(|(poses, to)| {
                let to = to.as_ref()?;
                let distance = |p: &Vec<[f64; 2]>| -> f64 {
                    p.iter()
                        .zip(to)
                        .map(|(a, b)| (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2))
                        .sum()
                };
                poses
                    .iter()
                    .min_by(|a, b| distance(a).total_cmp(&distance(b)))
                    .cloned()
            })
            .collect()
    }
}

/// The video file MediaPipe ran on: the still clip made again by `scripts/still-noise.sh`
/// (cached under the target directory), or the bundled clip.
fn video_file(reference: &Reference) -> PathBuf {
    let Some(still) = &reference.still else {
        return data::clip(&reference.clip);
    };
    let args: Vec<String> = ["frame", "size", "seconds", "fps"]
        .iter()
        .map(|k| match &still[k] {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("smoothing");
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join(format!("{}.{}.mkv", reference.name, args.join("-")));
    if !out.exists() {
        let tmp = out.with_extension(format!("{}.tmp.mkv", std::process::id()));
        let status = Command::new("bash")
            .arg(data::repo_root().join("scripts/still-noise.sh"))
            .arg(data::clip(still["clip"].as_str().unwrap()))
            .args(&args)
            .arg(&tmp)
            .status()
            .expect("bash");
        assert!(status.success(), "scripts/still-noise.sh failed");
        std::fs::rename(&tmp, &out).unwrap();
    }
    out
}

/// livepose in live mode, one person, on `frames` with MediaPipe's timestamps.
fn livepose_track(
    model: ModelKind,
    smoothing: SmoothingKind,
    reference: &Reference,
    frames: &[Vec<u8>],
) -> Track {
    let mut pipeline = Pipeline::builder()
        .model(model)
        .mode(RunMode::Live)
        .smoothing(smoothing)
        .num_poses(1)
        .models_dir(data::models())
        .build()
        .unwrap();
    let (w, h) = (f64::from(reference.width), f64::from(reference.height));
    frames
        .iter()
        .zip(&reference.timestamps_ms)
        .map(|(pixels, &ms)| {
            let image = RgbView::new(reference.width, reference.height, pixels).unwrap();
            let result = pipeline
                .process(Frame::Rgb(image), Some(Timestamp::from_micros(ms * 1000)))
                .unwrap();
            result.poses.first().map(|pose| {
                pose.landmarks
                    .iter()
                    .map(|l| [f64::from(l.x) * w, f64::from(l.y) * h])
                    .collect()
            })
        })
        .collect()
}

/// Diagonal of the bounding box of the mean pose of the found frames, pixels.
fn pose_size(poses: &[&Vec<[f64; 2]>]) -> f64 {
    let n = poses.len() as f64;
    let mean: Vec<[f64; 2]> = (0..33)
        .map(|k| {
            let sum = poses
                .iter()
                .fold([0.0, 0.0], |a, p| [a[0] + p[k][0], a[1] + p[k][1]]);
            [sum[0] / n, sum[1] / n]
        })
        .collect();
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for [x, y] in mean {
        x0 = x0.min(x);
        y0 = y0.min(y);
        x1 = x1.max(x);
        y1 = y1.max(y);
    }
    (x1 - x0).hypot(y1 - y0)
}

/// Jitter of a still person: see the module docs. Frames before `skip` are left out (the
/// filters settle). Also the number of frames it was measured on.
fn jitter(track: &Track, skip: usize) -> (f64, usize) {
    let poses: Vec<_> = track.iter().skip(skip).flatten().collect();
    if poses.len() < 2 {
        return (f64::NAN, poses.len());
    }
    let n = poses.len() as f64;
    let size = pose_size(&poses);
    let mean_std = (0..33)
        .map(|k| {
            let (mut sx, mut sy, mut sxx, mut syy) = (0.0, 0.0, 0.0, 0.0);
            for p in &poses {
                let [x, y] = p[k];
                sx += x;
                sy += y;
                sxx += x * x;
                syy += y * y;
            }
            let var = (sxx / n - (sx / n).powi(2)) + (syy / n - (sy / n).powi(2));
            var.max(0.0).sqrt()
        })
        .sum::<f64>()
        / 33.0;
    (mean_std / size, poses.len())
}

/// `track` at time `t_ms`, linearly interpolated between its frames at `times_ms`; none
/// outside them or next to a frame without a pose.
fn at(track: &Track, times_ms: &[f64], t_ms: f64) -> Option<Vec<[f64; 2]>> {
    let i = times_ms.partition_point(|&x| x <= t_ms);
    if i == 0 || t_ms > *times_ms.last()? {
        return None;
    }
    let i = (i - 1).min(times_ms.len().saturating_sub(2));
    let (a, b) = (track[i].as_ref()?, track[i + 1].as_ref()?);
    let u = ((t_ms - times_ms[i]) / (times_ms[i + 1] - times_ms[i])).clamp(0.0, 1.0);
    Some(
        a.iter()
            .zip(b)
            .map(|(p, q)| [p[0] + u * (q[0] - p[0]), p[1] + u * (q[1] - p[1])])
            .collect(),
    )
}

/// Lag of `smoothed` behind `raw` in ms: see the module docs. Shifts from -50 to 250 ms.
fn lag_ms(smoothed: &Track, raw: &Track, timestamps_ms: &[u64]) -> f64 {
    let times: Vec<f64> = timestamps_ms.iter().map(|&t| t as f64).collect();
    let mut best = (f64::NAN, f64::MAX);
    for step in 0..=600 {
        let shift = -50.0 + f64::from(step) * 0.5;
        let (mut sum, mut count) = (0.0, 0usize);
        for (s, &t) in smoothed.iter().zip(&times) {
            let (Some(s), Some(r)) = (s, at(raw, &times, t - shift)) else {
                continue;
            };
            sum += s
                .iter()
                .zip(&r)
                .map(|(p, q)| (p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2))
                .sum::<f64>();
            count += 1;
        }
        // Only shifts that keep most frames compared (not an edge with a few frames).
        if count * 4 >= smoothed.len() * 3 && sum / (count as f64) < best.1 {
            best = (shift, sum / count as f64);
        }
    }
    best.0
}

fn main() {
    let quick = !std::env::args().any(|a| a == "--bench");
    let models: Vec<(ModelKind, &str)> = [(ModelKind::Full, "full"), (ModelKind::Lite, "lite")]
        .into_iter()
        .filter(|(_, name)| {
            let asked: Vec<String> = std::env::args()
                .skip(1)
                .filter(|a| !a.starts_with('-'))
                .collect();
            asked.is_empty() || asked.iter().any(|a| a == name)
        })
        .filter(|(_, name)| !quick || *name == "full")
        .collect();
    let limit = if quick { 12 } else { 100_000 };
    let stills = ["still_lab_dance", "still_outdoor"];
    let dances = ["lab_dance", "multi_two_dancers"];
    let names: Vec<String> = SMOOTHERS.iter().map(|k| k.as_str().to_string()).collect();
    println!(
        "== Smoothing: jitter (still person, camera noise; / pose size) and lag (dancers; ms), \
         livepose live mode vs MediaPipe VIDEO mode{}",
        if quick {
            " (test mode: 12 frames, numbers meaningless)"
        } else {
            ""
        }
    );
    println!(
        "| model | clip | measure | {} | MediaPipe | {} |",
        names.join(" | "),
        names[1..]
            .iter()
            .map(|n| format!("{n} / MediaPipe"))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    println!("|{}", " --- |".repeat(4 + 2 * names.len()));
    for (model, model_name) in models {
        for name in stills.iter().take(if quick { 1 } else { 2 }) {
            let reference = load_reference(name, model_name, "video");
            let frames = frames::rgb_frames(
                &video_file(&reference),
                None,
                Some(limit),
                reference.width,
                reference.height,
            );
            let skip = if quick {
                2
            } else {
                reference.fps.round() as usize
            };
            let ours: Vec<(f64, usize)> = SMOOTHERS
                .iter()
                .map(|&k| jitter(&livepose_track(model, k, &reference, &frames), skip))
                .collect();
            let (mp, mp_frames) = jitter(&reference.track(limit), skip);
            let frames_note = ours
                .iter()
                .map(|(_, n)| n.to_string())
                .chain([mp_frames.to_string()])
                .collect::<Vec<_>>()
                .join("/");
            println!(
                "| {model_name} | {name} | jitter (frames {frames_note}) | {} | {mp:.2e} | {} |",
                ours.iter()
                    .map(|(j, _)| format!("{j:.2e}"))
                    .collect::<Vec<_>>()
                    .join(" | "),
                ours[1..]
                    .iter()
                    .map(|(j, _)| format!("{:.2}", j / mp))
                    .collect::<Vec<_>>()
                    .join(" | ")
            );
        }
        for name in dances.iter().take(if quick { 1 } else { 2 }) {
            let reference = load_reference(name, model_name, "video");
            let mp_unsmoothed = load_reference(name, model_name, "video_unsmoothed");
            let mp_image = load_reference(name, model_name, "image");
            let frames = frames::rgb_frames(
                &video_file(&reference),
                None,
                Some(limit),
                reference.width,
                reference.height,
            );
            let tracks: Vec<Track> = SMOOTHERS
                .iter()
                .map(|&k| livepose_track(model, k, &reference, &frames))
                .collect();
            let raw = &tracks[0];
            let ts = &reference.timestamps_ms[..raw.len()];
            let lags: Vec<f64> = tracks.iter().map(|t| lag_ms(t, raw, ts)).collect();
            let mp_track = reference.track(limit);
            // MediaPipe against its own unsmoothed tracking (the same measure as ours), and
            // for comparison against ours and against its image mode.
            let mp = lag_ms(&mp_track, &mp_unsmoothed.nearest_track(&mp_track), ts);
            let mp_vs_ours = lag_ms(&mp_track, raw, ts);
            let mp_vs_image = lag_ms(&mp_track, &mp_image.nearest_track(&mp_track), ts);
            println!(
                "| {model_name} | {name} | lag ms (MediaPipe vs livepose none: {mp_vs_ours:.1}, vs its IMAGE mode: {mp_vs_image:.1}) | {} | {mp:.1} | {} |",
                lags.iter()
                    .map(|l| format!("{l:.1}"))
                    .collect::<Vec<_>>()
                    .join(" | "),
                lags[1..]
                    .iter()
                    .map(|l| format!("{:+.1} ms", l - mp))
                    .collect::<Vec<_>>()
                    .join(" | ")
            );
        }
    }
}
