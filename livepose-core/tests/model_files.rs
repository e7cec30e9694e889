//! Models from anywhere: a folder of MediaPipe's `.tflite` files (converted at load, the
//! conversion cached by content) and `.task` bundles give the same poses as the `.onnx`
//! files of the models folder, on a real frame; a missing model is an error that says how to fetch it.

use std::io::Write;

use std::path::{Path, PathBuf};

use livepose_core::inference::model_files::{CacheOutcome, ConversionCache, ModelRole};
use livepose_core::inference::{Frame, Pipeline, PipelineBuilder, PipelineError};
use livepose_core::wire::control::{ModelKind, RunMode};
use livepose_test_support::data;
use livepose_test_support::frames::jpeg_frame_filtered;

/// A fresh scratch folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("livepose-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn frame() -> Vec<u8> {
    jpeg_frame_filtered("lab_dance_1080x1920_60fps.mp4", 30, Some("scale=480:640"))
}

/// The landmarks a pipeline finds on the frame (image mode, hands on).
fn poses(builder: PipelineBuilder) -> Vec<f32> {
    let mut pipeline: Pipeline = builder
        .mode(RunMode::Image)
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let result = pipeline.process(Frame::Encoded(&frame()), None).unwrap();
    assert_eq!(result.poses.len(), 1);
    let pose = &result.poses[0];
    let mut out: Vec<f32> = pose
        .landmarks
        .iter()
        .flat_map(|l| [l.x, l.y, l.z, l.visibility])
        .collect();
    for hand in &pose.hands {
        out.extend(hand.landmarks.iter().flat_map(|p| [p.x, p.y, p.z]));
    }
    out
}

#[test]
fn a_folder_of_tflite_files_gives_the_onnx_poses() {
    let cache = scratch("tflite-cache");
    let onnx = poses(
        Pipeline::builder()
            .models_dir(data::models())
            .hand_model(ModelKind::Lite),
    );
    // A folder with the .tflite files only (the models folder has the .onnx files beside
    // them, which a pipeline would take first).
    let tflite_dir = scratch("tflite-only");
    for stem in [
        "pose_detection",
        "pose_landmark_lite",
        "palm_detection_lite",
        "hand_landmark_lite",
    ] {
        let file = format!("{stem}.tflite");
        std::fs::copy(data::tflite(&file), tflite_dir.join(&file)).unwrap();
    }
    let tflite = poses(
        Pipeline::builder()
            .models_dir(&tflite_dir)
            .hand_model(ModelKind::Lite)
            .conversion_cache(ConversionCache::at(&cache)),
    );
    assert_eq!(onnx.len(), 33 * 4 + 2 * 21 * 3, "a pose and both hands");
    assert_eq!(onnx.len(), tflite.len());
    let worst = onnx
        .iter()
        .zip(&tflite)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert!(worst <= 1e-4, "largest landmark difference {worst}");
    // Four models converted and cached (the pose detector, lite landmarks, palm, hand).
    assert_eq!(std::fs::read_dir(&cache).unwrap().count(), 4);
    std::fs::remove_dir_all(&cache).unwrap();
    std::fs::remove_dir_all(&tflite_dir).unwrap();
}

#[test]
fn the_second_load_reads_the_cache() {
    let cache_dir = scratch("second-load");
    let cache = ConversionCache::at(&cache_dir);
    let bytes = std::fs::read(data::tflite("hand_landmark_lite.tflite")).unwrap();
    let (first, outcome) = cache.onnx(&bytes, "hand").unwrap();
    assert_eq!(outcome, CacheOutcome::Converted);
    let (second, outcome) = cache.onnx(&bytes, "hand").unwrap();
    assert_eq!(outcome, CacheOutcome::Hit);
    assert_eq!(first, second);
    // Another model is another entry.
    let other = std::fs::read(data::tflite("palm_detection_lite.tflite")).unwrap();
    assert_eq!(
        cache.onnx(&other, "palm").unwrap().1,
        CacheOutcome::Converted
    );
    assert_eq!(
        ConversionCache::disabled().onnx(&bytes, "hand").unwrap().1,
        CacheOutcome::Converted
    );
    std::fs::remove_dir_all(&cache_dir).unwrap();
}

fn bundle(path: &Path, members: &[(&str, &str)]) {
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (member, file) in members {
        zip.start_file(*member, options).unwrap();
        zip.write_all(&std::fs::read(data::tflite(file)).unwrap())
            .unwrap();
    }
    zip.finish().unwrap();
}

#[test]
fn a_task_bundle_gives_the_onnx_poses() {
    let dir = scratch("task");
    let task = dir.join("pose_landmarker_full.task");
    bundle(
        &task,
        &[
            ("pose_detector.tflite", "pose_detection.tflite"),
            (
                "pose_landmarks_detector.tflite",
                "pose_landmark_full.tflite",
            ),
        ],
    );
    let cache = ConversionCache::at(dir.join("cache"));
    let onnx = poses(
        Pipeline::builder()
            .models_dir(data::models())
            .model(ModelKind::Full),
    );
    let from_task = poses(
        Pipeline::builder()
            .model(ModelKind::Full)
            .pose_task(&task)
            .conversion_cache(cache.clone()),
    );
    let worst = onnx
        .iter()
        .zip(&from_task)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert!(worst <= 1e-4, "largest landmark difference {worst}");
    // Found by name in a models folder too.
    let in_dir = poses(
        Pipeline::builder()
            .models_dir(&dir)
            .model(ModelKind::Full)
            .conversion_cache(cache),
    );
    assert_eq!(in_dir, from_task);
    // A bundle without the member says what it holds.
    let wrong = dir.join("wrong.task");
    bundle(&wrong, &[("other.tflite", "hand_landmark_lite.tflite")]);
    let err = Pipeline::builder()
        .model_path(ModelRole::PoseDetector, &wrong)
        .build()
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("no pose_detector.tflite in the bundle (it holds: other.tflite)"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_missing_model_says_how_to_fetch_it() {
    let dir = scratch("empty");
    let err = Pipeline::builder().models_dir(&dir).build().unwrap_err();
    assert!(matches!(err, PipelineError::Models(_)), "{err:?}");
    let text = err.to_string();
    for words in [
        "pose detector",
        "pose_detection.onnx",
        "pose_detection.tflite",
        "pose_landmarker_lite.task",
        "livepose models fetch",
    ] {
        assert!(text.contains(words), "{text}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
