//! The `Pipeline` end to end on the shared clips: live (tracking) mode against MediaPipe's
//! video-mode reference, image mode against the image-mode reference, caller timestamps that
//! repeat or go back, and encoded (JPEG) input.

use livepose_core::image::RgbView;
use livepose_core::inference::{Frame, Pipeline};
use livepose_core::wire::control::{ModelKind, RunMode};
use livepose_core::wire::ResultFlags;
use livepose_core::Timestamp;
use livepose_test_support::{data, frames, reference};

struct Run {
    found: usize,
    reference_found: usize,
    detector_runs: usize,
    /// Frames on which we found as many poses as MediaPipe.
    same_count: usize,
    /// Per frame, our poses: track id and landmarks (x, y normalised).
    poses: Vec<Vec<(u32, Vec<[f32; 2]>)>>,
    /// Per matched reference pose: (frame, landmark error, world error in metres, index of
    /// the pose in the reference frame).
    matched: Vec<(usize, f32, f32, usize)>,
}

/// Median, 95th percentile and mean world error of a set of matched poses.
struct Figures {
    median: f32,
    p95: f32,
    world_mean: f32,
}

impl Run {
    /// Figures over the matched poses of the frames `keep` accepts.
    fn figures(&self, keep: impl Fn(usize) -> bool) -> Figures {
        self.pose_figures(|frame, _| keep(frame))
    }

    /// Figures over the matched reference poses (frame, index in the frame) `keep` accepts.
    fn pose_figures(&self, keep: impl Fn(usize, usize) -> bool) -> Figures {
        let kept: Vec<_> = self.matched.iter().filter(|m| keep(m.0, m.3)).collect();
        let errors: Vec<f32> = kept.iter().map(|m| m.1).collect();
        Figures {
            median: reference::quantile(&errors, 0.5),
            p95: reference::quantile(&errors, 0.95),
            world_mean: kept.iter().map(|m| m.2).sum::<f32>() / kept.len().max(1) as f32,
        }
    }
}

fn run(clip: &str, model: ModelKind, model_name: &str, mode: RunMode, num_poses: usize) -> Run {
    let mode_name = if mode == RunMode::Live {
        "video"
    } else {
        "image"
    };
    let r = reference::load_reference(&format!("{clip}.{model_name}.{mode_name}.jsonl"));
    let frames = r.rgb_frames(clip);
    let mut pipeline = Pipeline::builder()
        .model(model)
        .mode(mode)
        .num_poses(num_poses)
        .models_dir(data::data_dir().join("models"))
        .build()
        .unwrap();
    let (w, h) = (r.width as f32, r.height as f32);
    let mut matched = Vec::new();
    let (mut found, mut reference_found, mut detector_runs, mut same_count) = (0, 0, 0, 0);
    let mut poses = Vec::new();
    for (i, (pixels, references)) in frames.iter().zip(&r.frames).enumerate() {
        // MediaPipe's own timestamps (whole milliseconds): its smoothing saw these.
        let ts = Timestamp::from_micros(r.timestamps_ms[i] * 1000);
        let image = RgbView::new(r.width, r.height, pixels).unwrap();
        let result = pipeline.process(Frame::Rgb(image), Some(ts)).unwrap();
        assert_eq!(result.timestamp, ts);
        found += result.poses.len();
        assert!(
            result.poses.iter().all(|p| p.angles.len() == 11),
            "every pose carries the 11 joint angles"
        );
        reference_found += references.len();
        same_count += usize::from(result.poses.len() == references.len());
        poses.push(
            result
                .poses
                .iter()
                .map(|p| (p.id, p.landmarks.iter().map(|l| [l.x, l.y]).collect()))
                .collect(),
        );
        detector_runs += usize::from(result.flags.contains(ResultFlags::DETECTOR_RAN));
        for (k, reference) in references.iter().enumerate() {
            let best = result
                .poses
                .iter()
                .map(|p| {
                    let xy: Vec<[f32; 2]> = p.landmarks.iter().map(|l| [l.x, l.y]).collect();
                    let world: Vec<[f32; 3]> =
                        p.world_landmarks.iter().map(|l| [l.x, l.y, l.z]).collect();
                    (
                        reference::landmark_error(&xy, reference, w, h),
                        reference::world_error(&world, reference),
                    )
                })
                .min_by(|a, b| a.0.total_cmp(&b.0));
            if let Some((e, we)) = best {
                if std::env::var_os("LIVEPOSE_PRINT_ERRORS").is_some() {
                    println!("frame {i}: error {e:.4}, world {:.2} cm", 100.0 * we);
                }
                matched.push((i, e, we, k));
            }
        }
    }
    let out = Run {
        found,
        reference_found,
        detector_runs,
        same_count,
        poses,
        matched,
    };
    let all = out.figures(|_| true);
    println!(
        "| {clip} | {model_name} | {mode_name} | poses {} (MediaPipe {}), same count on {} frames | detector on {} of {} frames | {:.4} | {:.4} | {:.2} cm |",
        out.found,
        out.reference_found,
        out.same_count,
        out.detector_runs,
        frames.len(),
        all.median,
        all.p95,
        100.0 * all.world_mean
    );
    out
}

/// Frames on which MediaPipe's own video (tracking) output agrees with its image output
/// (landmark error <= 0.05): where MediaPipe itself is stable. On the others (the dancer
/// spinning) the landmark model flips left and right on sub-pixel changes of its region of
/// interest, so any two implementations, and MediaPipe's two modes, disagree there.
fn mediapipe_stable_frames(clip: &str) -> Vec<bool> {
    let video = reference::load_reference(&format!("{clip}.full.video.jsonl"));
    let image = reference::load_reference(&format!("{clip}.full.image.jsonl"));
    let (w, h) = (video.width as f32, video.height as f32);
    video
        .frames
        .iter()
        .zip(&image.frames)
        .map(|(v, i)| match (v.first(), i.first()) {
            (Some(v), Some(i)) => {
                let xy: Vec<[f32; 2]> = i.landmarks.iter().map(|l| [l[0], l[1]]).collect();
                reference::landmark_error(&xy, v, w, h) <= 0.05
            }
            _ => false,
        })
        .collect()
}

fn assert_found_as_often_as_mediapipe(f: &Run) {
    assert!(
        f.found >= f.reference_found,
        "{} poses vs MediaPipe's {}",
        f.found,
        f.reference_found
    );
}

/// A live-mode lite pipeline on the shared models.
fn lite_pipeline() -> Pipeline {
    Pipeline::builder()
        .models_dir(data::data_dir().join("models"))
        .build()
        .unwrap()
}

#[test]
fn live_mode_tracks_the_lab_clip() {
    let clip = "lab_dance_1080x1920_60fps";
    let run = run(clip, ModelKind::Full, "full", RunMode::Live, 1);
    assert_found_as_often_as_mediapipe(&run);
    assert!(
        run.detector_runs <= 2,
        "tracking: the detector ran on {} frames",
        run.detector_runs
    );
    let all = run.figures(|_| true);
    assert!(all.median <= 0.02, "median {}", all.median);
    let stable = mediapipe_stable_frames(clip);
    let f = run.figures(|i| stable[i]);
    println!(
        "lab clip, the {} frames where MediaPipe's video and image outputs agree: median {:.4}, p95 {:.4}, world {:.2} cm",
        stable.iter().filter(|s| **s).count(),
        f.median,
        f.p95,
        100.0 * f.world_mean
    );
    assert!(
        f.median <= 0.02 && f.p95 <= 0.05 && f.world_mean <= 0.03,
        "median {} p95 {} world {} m",
        f.median,
        f.p95,
        f.world_mean
    );
}

#[test]
fn live_mode_tracks_two_people_outdoors() {
    let f = run(
        "outdoor_two_people_1768x994_30fps",
        ModelKind::Full,
        "full",
        RunMode::Live,
        2,
    );
    assert_found_as_often_as_mediapipe(&f);
    let f = f.figures(|_| true);
    assert!(
        f.median <= 0.02 && f.p95 <= 0.05,
        "median {} p95 {}",
        f.median,
        f.p95
    );
}

#[test]
fn image_mode_through_the_pipeline_matches_mediapipe() {
    let f = run(
        "lab_dance_1080x1920_60fps",
        ModelKind::Lite,
        "lite",
        RunMode::Image,
        1,
    );
    assert_eq!(f.found, f.reference_found);
    assert_eq!(f.detector_runs, 100, "image mode detects on every frame");
    let f = f.figures(|_| true);
    assert!(f.median <= 0.02 && f.p95 <= 0.05 && f.world_mean <= 0.03);
}

#[test]
fn repeated_and_older_timestamps_are_ordered_not_rejected() {
    let mut pipeline = lite_pipeline();
    let jpeg = frames::jpeg_frame(frames::LAB, 10, 540, 960);
    let mut last = None;
    for (us, adjusted) in [(1_000, false), (1_000, true), (500, true), (40_000, false)] {
        let result = pipeline
            .process(Frame::Encoded(&jpeg), Some(Timestamp::from_micros(us)))
            .unwrap();
        assert_eq!(
            result.flags.contains(ResultFlags::TIMESTAMP_ADJUSTED),
            adjusted,
            "{us}"
        );
        assert!(
            last.is_none_or(|l| result.timestamp > l),
            "strictly increasing"
        );
        last = Some(result.timestamp);
        assert_eq!(result.poses.len(), 1);
        assert!(result.timings.decode > 0 && result.timings.landmarks > 0);
        assert!(result.timings.total >= result.timings.landmarks);
    }
}

#[test]
fn corrupt_input_is_an_error_and_the_pipeline_keeps_working() {
    let mut pipeline = lite_pipeline();
    let jpeg = frames::jpeg_frame(frames::LAB, 20, 540, 960);
    assert!(pipeline
        .process(Frame::Encoded(&jpeg[..jpeg.len() / 2]), None)
        .is_err());
    assert!(pipeline
        .process(Frame::Encoded(b"not an image"), None)
        .is_err());
    assert_eq!(
        pipeline
            .process(Frame::Encoded(&jpeg), None)
            .unwrap()
            .poses
            .len(),
        1
    );
}

#[test]
fn missing_models_are_a_clear_error() {
    let err = Pipeline::builder()
        .models_dir("/nonexistent/models")
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("pose_detection.onnx"), "{err}");
}

#[test]
fn segmentation_mask_covers_the_people_and_is_off_by_default() {
    let jpeg = frames::jpeg_frame(frames::LAB, 50, 540, 960);
    let mut plain = lite_pipeline();
    assert!(plain
        .process(Frame::Encoded(&jpeg), None)
        .unwrap()
        .segmentation
        .is_none());
    let mut pipeline = Pipeline::builder()
        .segmentation(true)
        .models_dir(data::data_dir().join("models"))
        .build()
        .unwrap();
    let result = pipeline.process(Frame::Encoded(&jpeg), None).unwrap();
    assert_eq!(result.poses.len(), 1);
    let mask = result.segmentation.as_ref().unwrap();
    assert_eq!((mask.width(), mask.height()), result.frame_size);
    let (w, h) = (mask.width() as f32, mask.height() as f32);
    // The middle of the torso (shoulders and hips) is person; the frame as a whole is not.
    for pose in &result.poses {
        let [a, b, c, d] = [11, 12, 23, 24].map(|i| &pose.landmarks[i]);
        let x = (a.x + b.x + c.x + d.x) / 4.0 * w;
        let y = (a.y + b.y + c.y + d.y) / 4.0 * h;
        let value = mask.get(x as u32, y as u32).unwrap();
        assert!(value > 200, "torso centre {value}");
    }
    // Saved for a person to look at (PGM, any image viewer or ffmpeg reads it).
    let dir = data::repo_root().join("target/artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    let mut pgm = format!("P5\n{} {}\n255\n", mask.width(), mask.height()).into_bytes();
    pgm.extend_from_slice(mask.data());
    std::fs::write(dir.join("segmentation_lab_frame50.pgm"), pgm).unwrap();
    let covered = mask.data().iter().filter(|v| **v >= 128).count() as f32 / (w * h);
    println!(
        "segmentation: {:.1}% of the frame is person",
        100.0 * covered
    );
    assert!(covered > 0.01 && covered < 0.3, "{covered}");
}

#[test]
fn one_engine_serves_several_streams_each_with_its_own_tracking() {
    use livepose_core::inference::Tracker;

    let builder = Pipeline::builder()
        .num_poses(2)
        .models_dir(data::data_dir().join("models"));
    let clips = [frames::LAB, frames::OUTDOOR];
    let jpegs: Vec<Vec<Vec<u8>>> = clips
        .iter()
        .map(|clip| {
            (0..6)
                .map(|i| frames::jpeg_frame(clip, 60 + i, 540, 540))
                .collect()
        })
        .collect();
    // Reference: one pipeline per stream.
    let mut expected = Vec::new();
    for stream in &jpegs {
        let mut pipeline = builder.clone().build().unwrap();
        let results: Vec<_> = stream
            .iter()
            .enumerate()
            .map(|(i, jpeg)| {
                let ts = Timestamp::from_micros(i as u64 * 33_333);
                pipeline
                    .process(Frame::Encoded(jpeg), Some(ts))
                    .unwrap()
                    .poses
                    .clone()
            })
            .collect();
        expected.push(results);
    }
    // One engine, two trackers, frames interleaved.
    let mut engine = builder.build_engine().unwrap();
    let mut trackers = [builder.tracker(), Tracker::new(builder.tracker_options())];
    for i in 0..6 {
        for (s, tracker) in trackers.iter_mut().enumerate() {
            let ts = Timestamp::from_micros(i as u64 * 33_333);
            let result = engine
                .process(tracker, Frame::Encoded(&jpegs[s][i]), Some(ts))
                .unwrap();
            assert_eq!(result.poses, expected[s][i], "stream {s} frame {i}");
        }
    }
    let found: Vec<usize> = expected
        .iter()
        .map(|s| s.iter().filter(|p| !p.is_empty()).count())
        .collect();
    assert!(
        found.iter().all(|n| *n >= 3),
        "frames with people per stream: {found:?}"
    );
}

/// Engines built from clones of one builder share its models: each takes a loaded set for a
/// frame and puts it back, so another set is loaded only for frames processed at the same
/// time (a server's workers under load), and results are those of a pipeline of its own.
#[test]
fn engines_from_one_builder_share_the_loaded_models() {
    let models = data::data_dir().join("models");
    let builder = Pipeline::builder().models_dir(&models);
    assert_eq!(builder.loaded_model_sets(), 0);
    let mut engines: Vec<_> = (0..3)
        .map(|_| builder.clone().build_engine().unwrap())
        .collect();
    assert_eq!(builder.loaded_model_sets(), 1, "one set for three engines");
    assert_eq!(
        builder.clone().segmentation(true).loaded_model_sets(),
        0,
        "other models: a pool of its own"
    );
    let jpegs: Vec<Vec<u8>> = (0..6)
        .map(|i| frames::jpeg_frame(frames::OUTDOOR, 60 + i, 540, 540))
        .collect();
    // One stream whose frames go to any engine, one at a time: one set, and the results of
    // a pipeline with models of its own.
    let mut alone = Pipeline::builder().models_dir(&models).build().unwrap();
    let mut tracker = builder.tracker();
    for (i, jpeg) in jpegs.iter().enumerate() {
        let ts = Timestamp::from_micros(i as u64 * 33_333);
        let expected = alone
            .process(Frame::Encoded(jpeg), Some(ts))
            .unwrap()
            .poses
            .clone();
        let result = engines[i % 3]
            .process(&mut tracker, Frame::Encoded(jpeg), Some(ts))
            .unwrap();
        assert_eq!(result.poses, expected, "frame {i}");
    }
    assert_eq!(builder.loaded_model_sets(), 1);
    // Three streams at the same time, one per thread: at most one set per thread.
    std::thread::scope(|s| {
        for engine in &mut engines {
            let (builder, jpegs) = (&builder, &jpegs);
            s.spawn(move || {
                let mut tracker = builder.tracker();
                for jpeg in jpegs {
                    engine
                        .process(&mut tracker, Frame::Encoded(jpeg), None)
                        .unwrap();
                }
            });
        }
    });
    let sets = builder.loaded_model_sets();
    assert!((1..=3).contains(&sets), "{sets} sets for three threads");
    // The other landmark model: a set of its own, in the same pool.
    builder
        .clone()
        .model(ModelKind::Full)
        .build_engine()
        .unwrap();
    assert_eq!(builder.loaded_model_sets(), sets + 1);
}

/// The shared multi-person clip: two people close together, one kicking toward the other
/// (Pose2Sim's Demo_MultiPerson, camera 2).
const TWO_DANCERS: &str = "multi_two_dancers_1088x1920_60fps";

/// Per frame, per pose of MediaPipe's video (tracking) output: whether its image-mode
/// output has a pose within landmark error 0.05 of it on the same frame (see
/// [`mediapipe_stable_frames`]; with several people, pose by pose).
fn mediapipe_stable_poses(clip: &str) -> Vec<Vec<bool>> {
    let video = reference::load_reference(&format!("{clip}.full.video.jsonl"));
    let image = reference::load_reference(&format!("{clip}.full.image.jsonl"));
    let (w, h) = (video.width as f32, video.height as f32);
    video
        .frames
        .iter()
        .zip(&image.frames)
        .map(|(v, i)| {
            v.iter()
                .map(|v| {
                    i.iter().any(|i| {
                        let xy: Vec<[f32; 2]> = i.landmarks.iter().map(|l| [l[0], l[1]]).collect();
                        reference::landmark_error(&xy, v, w, h) <= 0.05
                    })
                })
                .collect()
        })
        .collect()
}

#[test]
fn live_mode_tracks_two_dancers_close_together() {
    let run = run(TWO_DANCERS, ModelKind::Full, "full", RunMode::Live, 2);
    assert_found_as_often_as_mediapipe(&run);
    assert!(
        run.same_count as f64 >= 0.97 * run.poses.len() as f64,
        "same pose count on {} frames",
        run.same_count
    );
    let all = run.figures(|_| true);
    assert!(all.median <= 0.005, "median {}", all.median);
    let stable = mediapipe_stable_poses(TWO_DANCERS);
    let f = run.pose_figures(|i, k| stable[i][k]);
    println!(
        "two dancers, the {} poses where MediaPipe's video and image outputs agree: median {:.4}, p95 {:.4}, world {:.2} cm",
        stable.iter().flatten().filter(|s| **s).count(),
        f.median,
        f.p95,
        100.0 * f.world_mean
    );
    assert!(
        f.median <= 0.005 && f.p95 <= 0.02 && f.world_mean <= 0.03,
        "median {} p95 {} world {} m",
        f.median,
        f.p95,
        f.world_mean
    );
}

/// Hip centre (mean of landmarks 23 and 24) and torso length (shoulder centre to hip
/// centre) of a pose, pixels.
fn hip_and_torso(xy: &[[f32; 2]], w: f32, h: f32) -> ([f32; 2], f32) {
    let centre = |a: usize, b: usize| {
        [
            (xy[a][0] + xy[b][0]) / 2.0 * w,
            (xy[a][1] + xy[b][1]) / 2.0 * h,
        ]
    };
    let (hip, shoulder) = (centre(23, 24), centre(11, 12));
    (hip, (hip[0] - shoulder[0]).hypot(hip[1] - shoulder[1]))
}

/// Pairs `a` with `b` (hip centres) nearest first, each at most once: (index in a, index
/// in b, distance).
fn pair_nearest(a: &[[f32; 2]], b: &[[f32; 2]]) -> Vec<(usize, usize, f32)> {
    let mut pairs: Vec<(usize, usize, f32)> = a
        .iter()
        .enumerate()
        .flat_map(|(i, p)| {
            b.iter()
                .enumerate()
                .map(move |(j, q)| (i, j, (p[0] - q[0]).hypot(p[1] - q[1])))
        })
        .collect();
    pairs.sort_by(|x, y| x.2.total_cmp(&y.2));
    let (mut used_a, mut used_b, mut out) = (vec![false; a.len()], vec![false; b.len()], vec![]);
    for (i, j, d) in pairs {
        if !used_a[i] && !used_b[j] {
            used_a[i] = true;
            used_b[j] = true;
            out.push((i, j, d));
        }
    }
    out
}

/// Id switches of a live run on a clip with several people. The people are MediaPipe's:
/// each pose of its video output continues the person whose hip centre was last seen
/// within one torso length of its own (nearest first), or is a new person. On every frame
/// each person gets the id of our pose nearest to it (hip centres, each pose once). A
/// switch is a person seen on two consecutive frames under two ids, or an id given to a
/// second person. Returns the switches and, apart, the people who came back under a new
/// id after a frame without them (a track MediaPipe's graph lost too, re-detected).
fn id_switches(run: &Run, r: &reference::Reference) -> (usize, usize) {
    /// A person: last hip centre, torso length, last frame we saw them and our id then.
    type Person = ([f32; 2], f32, Option<(usize, u32)>);
    let (w, h) = (r.width as f32, r.height as f32);
    let mut people: Vec<Person> = Vec::new();
    let mut owner = std::collections::HashMap::new();
    let (mut switches, mut comebacks) = (0, 0);
    for (i, references) in r.frames.iter().enumerate() {
        let seen: Vec<([f32; 2], f32)> = references
            .iter()
            .map(|p| {
                let xy: Vec<[f32; 2]> = p.landmarks.iter().map(|l| [l[0], l[1]]).collect();
                hip_and_torso(&xy, w, h)
            })
            .collect();
        let last: Vec<[f32; 2]> = people.iter().map(|p| p.0).collect();
        let hips: Vec<[f32; 2]> = seen.iter().map(|s| s.0).collect();
        let mut person_of = vec![None; seen.len()];
        for (k, j, d) in pair_nearest(&last, &hips) {
            if d <= people[k].1 {
                person_of[j] = Some(k);
            }
        }
        let ours: Vec<[f32; 2]> = run.poses[i]
            .iter()
            .map(|(_, xy)| hip_and_torso(xy, w, h).0)
            .collect();
        let id_of: std::collections::HashMap<usize, u32> = pair_nearest(&hips, &ours)
            .into_iter()
            .map(|(j, o, _)| (j, run.poses[i][o].0))
            .collect();
        for (j, (hip, torso)) in seen.iter().enumerate() {
            let person = *person_of[j].get_or_insert_with(|| {
                people.push((*hip, *torso, None));
                people.len() - 1
            });
            people[person].0 = *hip;
            people[person].1 = *torso;
            let Some(&id) = id_of.get(&j) else { continue };
            if let Some((frame, last_id)) = people[person].2 {
                if last_id != id {
                    if frame + 1 == i {
                        println!("frame {i}: person {person} changes from id {last_id} to {id}");
                        switches += 1;
                    } else {
                        println!(
                            "frame {i}: person {person} is back under id {id} (was {last_id})"
                        );
                        comebacks += 1;
                    }
                }
            }
            if *owner.entry(id).or_insert(person) != person {
                println!("frame {i}: id {id} moves to person {person}");
                switches += 1;
                owner.insert(id, person);
            }
            people[person].2 = Some((i, id));
        }
    }
    (switches, comebacks)
}

#[test]
fn track_ids_stay_with_their_person_while_two_dancers_move_close() {
    let run = run(TWO_DANCERS, ModelKind::Full, "full", RunMode::Live, 2);
    let r = reference::load_reference(&format!("{TWO_DANCERS}.full.video.jsonl"));
    let (switches, comebacks) = id_switches(&run, &r);
    println!("two dancers, live: {switches} id switches, {comebacks} people back under a new id");
    assert_eq!(switches, 0);
}

/// Why live mode agrees with MediaPipe's tracking less closely than image mode does: the
/// tracking loop (each region from the last frame's landmarks) amplifies any difference,
/// so the arithmetic differences between ONNX Runtime and TFLite (image mode: median
/// 0.0001) grow within a few frames. Measured on ourselves: the same clip with one frame
/// made one grey level brighter drifts from the original run as far as we are from
/// MediaPipe. Printed, not asserted beyond the runs being identical up to that frame.
#[test]
fn live_mode_tracking_amplifies_a_one_grey_level_change() {
    let r = reference::load_reference(&format!("{TWO_DANCERS}.full.video.jsonl"));
    let frames = r.rgb_frames(TWO_DANCERS);
    let build = || {
        Pipeline::builder()
            .model(ModelKind::Full)
            .num_poses(2)
            .models_dir(data::data_dir().join("models"))
            .build()
            .unwrap()
    };
    let (mut original, mut changed) = (build(), build());
    let (w, h) = (r.width as f32, r.height as f32);
    const CHANGED: usize = 10;
    let (mut errors, mut world) = (Vec::new(), Vec::new());
    for (i, pixels) in frames.iter().enumerate() {
        let ts = Timestamp::from_micros(r.timestamps_ms[i] * 1000);
        let image = RgbView::new(r.width, r.height, pixels).unwrap();
        let a = original.process(Frame::Rgb(image), Some(ts)).unwrap();
        let mut brighter = pixels.clone();
        if i == CHANGED {
            brighter.iter_mut().for_each(|v| *v = v.saturating_add(1));
        }
        let image = RgbView::new(r.width, r.height, &brighter).unwrap();
        let b = changed.process(Frame::Rgb(image), Some(ts)).unwrap();
        if i < CHANGED {
            assert_eq!(a.poses, b.poses, "frame {i}");
            continue;
        }
        for pose in &a.poses {
            let as_reference = reference::RefPose {
                landmarks: pose
                    .landmarks
                    .iter()
                    .map(|l| [l.x, l.y, l.z, 0.0, 0.0])
                    .collect(),
                world: pose
                    .world_landmarks
                    .iter()
                    .map(|l| [l.x, l.y, l.z])
                    .collect(),
            };
            let nearest = b
                .poses
                .iter()
                .map(|p| {
                    let xy: Vec<[f32; 2]> = p.landmarks.iter().map(|l| [l.x, l.y]).collect();
                    let wl: Vec<[f32; 3]> =
                        p.world_landmarks.iter().map(|l| [l.x, l.y, l.z]).collect();
                    (
                        reference::landmark_error(&xy, &as_reference, w, h),
                        reference::world_error(&wl, &as_reference),
                    )
                })
                .min_by(|a, b| a.0.total_cmp(&b.0));
            if let Some((e, we)) = nearest {
                errors.push(e);
                world.push(we);
            }
        }
    }
    println!(
        "two dancers, live, after frame {CHANGED} made one grey level brighter, against the unchanged run: median {:.4}, p95 {:.4}, world {:.2} cm ({} poses)",
        reference::quantile(&errors, 0.5),
        reference::quantile(&errors, 0.95),
        100.0 * world.iter().sum::<f32>() / world.len().max(1) as f32,
        errors.len()
    );
}

#[test]
fn image_mode_through_the_pipeline_finds_both_dancers() {
    image_mode_on_view(TWO_DANCERS);
}

/// The same scene seen by Pose2Sim's other three cameras (`multi_cam01`, `multi_cam03`,
/// `multi_cam04`): views the multi-person fix was not tuned on, with MediaPipe's references
/// made by `scripts/make-reference.py`. On camera 3 one dancer is mostly hidden (MediaPipe
/// finds one person on most frames, none on 8), so the detector runs on every frame.
///
/// Live mode is held to the multi-person issue's bounds over all poses (median <= 0.005,
/// 95th percentile <= 0.02, world <= 2 cm), same pose count on >= 97% of frames and no id
/// switch. Camera 1 meets them narrowly (median 0.00496, world 1.94 cm): the tracking loop
/// amplifies any arithmetic difference, and MediaPipe's own video output, run again with
/// frame 10 one grey level brighter, moves from itself by median 0.0053, 95th percentile
/// 0.017, world 2.2 cm on that view (`scripts/experiments/mediapipe_self_divergence.py`).
fn live_mode_on_view(clip: &str) {
    let run = run(clip, ModelKind::Full, "full", RunMode::Live, 2);
    assert_found_as_often_as_mediapipe(&run);
    assert!(
        run.same_count as f64 >= 0.97 * run.poses.len() as f64,
        "{clip}: same pose count on {} frames",
        run.same_count
    );
    let stable = mediapipe_stable_poses(clip);
    let s = run.pose_figures(|i, k| stable[i][k]);
    println!(
        "{clip}, the {} of {} poses where MediaPipe's video and image outputs agree: median {:.4}, p95 {:.4}, world {:.2} cm",
        stable.iter().flatten().filter(|s| **s).count(),
        stable.iter().flatten().count(),
        s.median,
        s.p95,
        100.0 * s.world_mean
    );
    let r = reference::load_reference(&format!("{clip}.full.video.jsonl"));
    let (switches, comebacks) = id_switches(&run, &r);
    println!("{clip}, live: {switches} id switches, {comebacks} people back under a new id");
    assert_eq!(switches, 0, "{clip}: id switches");
    let f = run.figures(|_| true);
    assert!(
        f.median <= 0.005 && f.p95 <= 0.02 && f.world_mean <= 0.02,
        "{clip}: median {} p95 {} world {} m",
        f.median,
        f.p95,
        f.world_mean
    );
}

#[test]
fn live_mode_tracks_two_dancers_seen_by_camera_1() {
    live_mode_on_view("multi_cam01_1088x1920_60fps");
}

#[test]
fn live_mode_tracks_two_dancers_seen_by_camera_3() {
    live_mode_on_view("multi_cam03_1088x1920_60fps");
}

#[test]
fn live_mode_tracks_two_dancers_seen_by_camera_4() {
    live_mode_on_view("multi_cam04_1088x1920_60fps");
}

/// Image mode through the `Pipeline` on a two-dancer view: same pose count on >= 97% of
/// frames, median <= 0.005, 95th percentile <= 0.01, world <= 1 cm.
fn image_mode_on_view(clip: &str) {
    let run = run(clip, ModelKind::Full, "full", RunMode::Image, 2);
    let frames = run.poses.len();
    assert!(
        run.same_count as f64 >= 0.97 * frames as f64,
        "{clip}: same pose count on {} of {frames} frames",
        run.same_count
    );
    let f = run.figures(|_| true);
    assert!(
        f.median <= 0.005 && f.p95 <= 0.01 && f.world_mean <= 0.01,
        "{clip}: median {} p95 {} world {} m",
        f.median,
        f.p95,
        f.world_mean
    );
}

#[test]
fn image_mode_through_the_pipeline_on_camera_1() {
    image_mode_on_view("multi_cam01_1088x1920_60fps");
}

#[test]
fn image_mode_through_the_pipeline_on_camera_3() {
    image_mode_on_view("multi_cam03_1088x1920_60fps");
}

#[test]
fn image_mode_through_the_pipeline_on_camera_4() {
    image_mode_on_view("multi_cam04_1088x1920_60fps");
}
