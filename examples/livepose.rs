//! The `livepose` command line: run the pose pipeline over a clip, a folder of JPEGs or a
//! video on standard input, write the poses as JSON lines, and optionally render the
//! skeletons onto the frames so a person can look at the result.
//!
//! ```text
//! cargo run --release --example livepose -- run clip.mp4 --model lite --out poses.jsonl --render out.mp4
//! cargo run --release --example livepose -- run frames/ --mode image --out poses.jsonl
//! ffmpeg -i clip.mp4 -f matroska - | cargo run --release --example livepose -- run - --out poses.jsonl
//! cargo run --release --example livepose -- convert ~/.cache/livepose/models
//! ```
//!
//! Video is read through an ffmpeg subprocess (Debian package `ffmpeg`); models come from
//! `--models`, else `LIVEPOSE_MODELS`, else `~/.cache/livepose/models`, as `.onnx`,
//! MediaPipe's `.tflite` or `.task` bundles. `convert` writes the ONNX form of `.tflite`
//! files.

use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Instant;

use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use livepose::core::image::RgbView;
use livepose::core::inference::{Frame, Pipeline, PoseResult};
use livepose::core::types::Handedness;
use livepose::core::wire::control::{ModelKind, RunMode, SmoothingKind};
use livepose::core::Timestamp;

#[derive(Parser)]
#[command(
    name = "livepose",
    about = "Real-time pose estimation (MediaPipe BlazePose on ONNX Runtime)"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Estimate poses on every frame of a clip, a folder of JPEGs, or `-` (video on stdin).
    Run(RunArgs),
    /// Convert MediaPipe `.tflite` models to ONNX: one file (to `--out`, default beside it
    /// with the `.onnx` extension), or every `.tflite` file of a folder (each beside itself).
    Convert(ConvertArgs),
}

#[derive(clap::Args)]
struct ConvertArgs {
    /// A `.tflite` file or a folder of them.
    input: PathBuf,
    /// Where to write the ONNX model (a single input file only).
    #[arg(long, short)]
    out: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Model {
    Lite,
    Full,
}

#[derive(Clone, Copy, ValueEnum)]
enum Mode {
    Live,
    Image,
}

#[derive(Clone, Copy, ValueEnum)]
enum Smoothing {
    OneEuro,
    Ema,
    None,
}

#[derive(clap::Args)]
struct RunArgs {
    /// A video file, a directory of .jpg/.jpeg/.png files, or `-` for a video on stdin.
    input: String,
    /// Landmark model.
    #[arg(long, value_enum, default_value = "lite")]
    model: Model,
    /// live: track across frames; image: every frame on its own.
    #[arg(long, value_enum, default_value = "live")]
    mode: Mode,
    /// Most people to track.
    #[arg(long, default_value_t = 1)]
    num_poses: usize,
    /// Landmark smoothing in live mode: One Euro with MediaPipe's parameters, EMA (alpha
    /// 0.7), or none.
    #[arg(long, value_enum, default_value = "one-euro")]
    smoothing: Smoothing,
    /// Hand landmarks too (palm_detection_full.onnx and hand_landmark_full.onnx).
    #[arg(long)]
    hands: bool,
    /// Write one JSON line per frame here.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Draw the skeletons onto the frames and encode them to this video file.
    #[arg(long)]
    render: Option<PathBuf>,
    /// Stop after this many frames.
    #[arg(long)]
    max_frames: Option<u64>,
    /// Frame rate for timestamps (default: the video's; 30 for folders and standard input).
    #[arg(long)]
    fps: Option<f64>,
    /// Models folder (pose_detection and pose_landmark_{lite,full} as .onnx, .tflite or
    /// .task); default: LIVEPOSE_MODELS, else ~/.cache/livepose/models.
    #[arg(long)]
    models: Option<PathBuf>,
}

type Error = Box<dyn std::error::Error>;

/// Frames of the input, decoded to RGB8.
enum Source {
    /// Raw RGB frames of a probed size from ffmpeg.
    Video {
        child: Child,
        width: u32,
        height: u32,
    },
    /// PPM frames from ffmpeg reading standard input (each frame carries its size: a pipe
    /// cannot be probed first without consuming it).
    Piped {
        child: Child,
    },
    Files(std::vec::IntoIter<PathBuf>),
}

struct VideoInfo {
    width: u32,
    height: u32,
    fps: f64,
    frames: Option<u64>,
}

fn probe(input: &str) -> Result<VideoInfo, Error> {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-count_packets"])
        .args([
            "-show_entries",
            "stream=width,height,r_frame_rate,nb_read_packets",
            "-of",
            "csv=p=0",
        ])
        .arg(input)
        .output()
        .map_err(|e| format!("ffprobe (Debian package ffmpeg) is needed to read video: {e}"))?;
    let text = String::from_utf8(out.stdout)?;
    let fields: Vec<&str> = text.trim().split(',').collect();
    let [w, h, rate, count] = fields[..] else {
        return Err(format!(
            "ffprobe could not read {input}: {}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    };
    let fps = match rate.split_once('/') {
        Some((n, d)) => n.parse::<f64>()? / d.parse::<f64>()?.max(1.0),
        None => rate.parse()?,
    };
    Ok(VideoInfo {
        width: w.parse()?,
        height: h.parse()?,
        fps,
        frames: count.parse().ok(),
    })
}

/// ffmpeg decoding `input` (`-` for standard input) to `format` on its standard output.
fn ffmpeg_reader(input: &str, format: &[&str]) -> Result<Child, Error> {
    Command::new("ffmpeg")
        .args(["-v", "error", "-i", input])
        .args(format)
        .arg("-")
        .stdin(if input == "-" {
            Stdio::inherit()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("ffmpeg (Debian package ffmpeg) is needed to read video: {e}").into())
}

fn open_video(input: &str, width: u32, height: u32) -> Result<Source, Error> {
    let child = ffmpeg_reader(input, &["-f", "rawvideo", "-pix_fmt", "rgb24"])?;
    Ok(Source::Video {
        child,
        width,
        height,
    })
}

/// Reads one binary PPM header (`P6 <width> <height> 255` and one whitespace byte); `None`
/// at the end of the stream.
fn read_ppm_header(r: &mut impl Read) -> Result<Option<(u32, u32)>, Error> {
    let mut tokens: Vec<String> = Vec::new();
    let mut token = String::new();
    let mut byte = [0u8];
    while tokens.len() < 4 {
        if r.read(&mut byte)? == 0 {
            return if tokens.is_empty() && token.is_empty() {
                Ok(None)
            } else {
                Err("truncated PPM header from ffmpeg".into())
            };
        }
        if byte[0].is_ascii_whitespace() {
            if !token.is_empty() {
                tokens.push(std::mem::take(&mut token));
            }
        } else if token.len() < 16 {
            token.push(byte[0] as char);
        } else {
            return Err("malformed PPM header from ffmpeg".into());
        }
    }
    match &tokens[..] {
        [magic, w, h, max] if magic == "P6" && max == "255" => Ok(Some((w.parse()?, h.parse()?))),
        _ => Err(format!("unexpected PPM header from ffmpeg: {tokens:?}").into()),
    }
}

fn image_files(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                matches!(
                    e.to_ascii_lowercase().as_str(),
                    "jpg" | "jpeg" | "png" | "webp"
                )
            })
        })
        .collect();
    files.sort();
    Ok(files)
}

/// MediaPipe's pose connections (pairs of landmark indices).
const CONNECTIONS: [(usize, usize); 35] = [
    (0, 1),
    (1, 2),
    (2, 3),
    (3, 7),
    (0, 4),
    (4, 5),
    (5, 6),
    (6, 8),
    (9, 10),
    (11, 12),
    (11, 13),
    (13, 15),
    (15, 17),
    (15, 19),
    (15, 21),
    (17, 19),
    (12, 14),
    (14, 16),
    (16, 18),
    (16, 20),
    (16, 22),
    (18, 20),
    (11, 23),
    (12, 24),
    (23, 24),
    (23, 25),
    (24, 26),
    (25, 27),
    (26, 28),
    (27, 29),
    (28, 30),
    (29, 31),
    (30, 32),
    (27, 31),
    (28, 32),
];

/// Draws a filled disc of `radius` pixels.
fn dot(pixels: &mut [u8], width: u32, height: u32, x: f32, y: f32, radius: i32, colour: [u8; 3]) {
    let (cx, cy) = (x.round() as i32, y.round() as i32);
    for dy in -radius..=radius {
        for dx in -radius..=radius {
            let (px, py) = (cx + dx, cy + dy);
            if dx * dx + dy * dy <= radius * radius
                && px >= 0
                && py >= 0
                && (px as u32) < width
                && (py as u32) < height
            {
                let at = ((py as u32 * width + px as u32) * 3) as usize;
                pixels[at..at + 3].copy_from_slice(&colour);
            }
        }
    }
}

/// MediaPipe's hand connections.
const HAND_CONNECTIONS: [(usize, usize); 21] = [
    (0, 1),
    (1, 2),
    (2, 3),
    (3, 4),
    (0, 5),
    (5, 6),
    (6, 7),
    (7, 8),
    (5, 9),
    (9, 10),
    (10, 11),
    (11, 12),
    (9, 13),
    (13, 14),
    (14, 15),
    (15, 16),
    (13, 17),
    (0, 17),
    (17, 18),
    (18, 19),
    (19, 20),
];

/// Draws `connections` between the visible ones of `points` (pixels) as lines, and the
/// points as discs.
fn draw_skeleton(
    pixels: &mut [u8],
    (width, height): (u32, u32),
    points: &[Option<(f32, f32)>],
    connections: &[(usize, usize)],
    thickness: i32,
    [line, joint]: [[u8; 3]; 2],
) {
    for &(a, b) in connections {
        if let (Some(Some((x0, y0))), Some(Some((x1, y1)))) = (points.get(a), points.get(b)) {
            let steps = ((x1 - x0).abs().max((y1 - y0).abs()) as usize).max(1);
            for s in 0..=steps {
                let t = s as f32 / steps as f32;
                let (x, y) = (x0 + (x1 - x0) * t, y0 + (y1 - y0) * t);
                dot(pixels, width, height, x, y, thickness, line);
            }
        }
    }
    for (x, y) in points.iter().flatten() {
        dot(pixels, width, height, *x, *y, thickness * 2, joint);
    }
}

/// Draws the skeletons (and hands) of `result` onto an RGB8 frame.
fn draw(pixels: &mut [u8], width: u32, height: u32, result: &PoseResult) {
    let thickness = ((width.max(height) as f32) / 400.0).ceil() as i32;
    let (w, h) = (width as f32, height as f32);
    for pose in &result.poses {
        let points: Vec<_> = pose
            .landmarks
            .iter()
            .map(|l| (l.visibility >= 0.5).then_some((l.x * w, l.y * h)))
            .collect();
        let colours = [[0, 255, 0], [255, 40, 40]];
        draw_skeleton(
            pixels,
            (width, height),
            &points,
            &CONNECTIONS,
            thickness,
            colours,
        );
        for hand in &pose.hands {
            let points: Vec<_> = hand
                .landmarks
                .iter()
                .map(|l| Some((l.x * w, l.y * h)))
                .collect();
            let colours = [[255, 220, 0], [40, 120, 255]];
            let thin = (thickness / 2).max(1);
            draw_skeleton(
                pixels,
                (width, height),
                &points,
                &HAND_CONNECTIONS,
                thin,
                colours,
            );
        }
    }
}

fn encoder(path: &Path, width: u32, height: u32, fps: f64) -> Result<(Child, ChildStdin), Error> {
    let mut child = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24"])
        .args([
            "-s",
            &format!("{width}x{height}"),
            "-r",
            &format!("{fps}"),
            "-i",
            "-",
        ])
        .args(["-pix_fmt", "yuv420p"])
        .arg(path)
        .stdin(Stdio::piped())
        .spawn()?;
    let stdin = child.stdin.take().ok_or("ffmpeg stdin")?;
    Ok((child, stdin))
}

fn json_line(index: u64, result: &PoseResult) -> String {
    let poses: Vec<serde_json::Value> = result
        .poses
        .iter()
        .map(|p| {
            serde_json::json!({
                "id": p.id,
                "score": p.score,
                "landmarks": p.landmarks.iter().map(|l| [l.x, l.y, l.z, l.visibility, l.presence]).collect::<Vec<_>>(),
                "world_landmarks": p.world_landmarks.iter().map(|l| [l.x, l.y, l.z]).collect::<Vec<_>>(),
                "angles": p.angles.iter().filter_map(|a| Some((a.joint.name()?.to_string(), serde_json::json!(a.degrees)))).collect::<serde_json::Map<_, _>>(),
                "hands": p.hands.iter().map(|hand| serde_json::json!({
                    "handedness": match hand.handedness {
                        Handedness::Left => "left",
                        Handedness::Right => "right",
                        Handedness::Unknown => "unknown",
                    },
                    "score": hand.score,
                    "landmarks": hand.landmarks.iter().map(|l| [l.x, l.y, l.z]).collect::<Vec<_>>(),
                    "world_landmarks": hand.world_landmarks.iter().map(|l| [l.x, l.y, l.z]).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let t = result.timings;
    serde_json::json!({
        "frame": index,
        "timestamp_us": result.timestamp.as_micros(),
        "poses": poses,
        "timings_us": {"decode": t.decode, "detect": t.detect, "crop": t.crop, "landmarks": t.landmarks, "hands": t.hands, "post": t.post, "total": t.total},
    })
    .to_string()
}

fn run(args: RunArgs) -> Result<(), Error> {
    let builder = Pipeline::builder()
        .hands(args.hands)
        .model(match args.model {
            Model::Lite => ModelKind::Lite,
            Model::Full => ModelKind::Full,
        })
        .mode(match args.mode {
            Mode::Live => RunMode::Live,
            Mode::Image => RunMode::Image,
        })
        .smoothing(match args.smoothing {
            Smoothing::OneEuro => SmoothingKind::OneEuro,
            Smoothing::Ema => SmoothingKind::Ema,
            Smoothing::None => SmoothingKind::None,
        })
        .num_poses(args.num_poses);
    let builder = match &args.models {
        Some(dir) => builder.models_dir(dir),
        None => builder,
    };
    let mut pipeline = builder.build()?;
    let input_dir = Path::new(&args.input).is_dir();
    let (mut source, fps, total) = if input_dir {
        let files = image_files(Path::new(&args.input))?;
        let n = files.len() as u64;
        (Source::Files(files.into_iter()), 30.0, Some(n))
    } else if args.input == "-" {
        let child = ffmpeg_reader("-", &["-f", "image2pipe", "-c:v", "ppm"])?;
        (Source::Piped { child }, 30.0, None)
    } else {
        let info = probe(&args.input)?;
        (
            open_video(&args.input, info.width, info.height)?,
            info.fps,
            info.frames,
        )
    };
    let fps = args.fps.unwrap_or(fps);
    let bar = match total {
        Some(n) => ProgressBar::new(n),
        None => ProgressBar::new_spinner(),
    };
    bar.set_style(ProgressStyle::with_template(
        "{bar:40} {pos}/{len} frames {per_sec} {msg}",
    )?);
    let mut out = args
        .out
        .as_ref()
        .map(std::fs::File::create)
        .transpose()?
        .map(BufWriter::new);
    let mut render: Option<(Child, ChildStdin)> = None;
    let (mut frames, mut with_pose, mut skipped) = (0u64, 0u64, 0u64);
    let started = Instant::now();
    let mut rgb = Vec::new();
    let mut bytes = Vec::new();
    let mut decoded = livepose::core::image::RgbImage::new();
    let mut decoder = livepose::core::image::ImageDecoder::default();
    while args.max_frames.is_none_or(|max| frames < max) {
        let (width, height) = match &mut source {
            Source::Video {
                child,
                width,
                height,
            } => {
                rgb.resize((*width * *height * 3) as usize, 0);
                let stdout = child.stdout.as_mut().ok_or("ffmpeg stdout")?;
                if stdout.read_exact(&mut rgb).is_err() {
                    break;
                }
                (*width, *height)
            }
            Source::Piped { child } => {
                let stdout = child.stdout.as_mut().ok_or("ffmpeg stdout")?;
                let Some((width, height)) = read_ppm_header(stdout)? else {
                    break;
                };
                rgb.resize((width * height * 3) as usize, 0);
                stdout.read_exact(&mut rgb)?;
                (width, height)
            }
            Source::Files(files) => {
                let Some(path) = files.next() else { break };
                bytes = std::fs::read(&path)?;
                if let Err(e) = decoder.decode(&bytes, &mut decoded) {
                    bar.suspend(|| eprintln!("livepose: skipping {}: {e}", path.display()));
                    skipped += 1;
                    continue;
                }
                rgb.clear();
                rgb.extend_from_slice(decoded.data());
                (decoded.width(), decoded.height())
            }
        };
        let ts = Timestamp::from_micros((frames as f64 * 1e6 / fps) as u64);
        let result = pipeline.process(Frame::Rgb(RgbView::new(width, height, &rgb)?), Some(ts))?;
        with_pose += u64::from(!result.poses.is_empty());
        if let Some(out) = &mut out {
            writeln!(out, "{}", json_line(frames, result))?;
        }
        if let Some(path) = &args.render {
            if render.is_none() {
                render = Some(encoder(path, width, height, fps)?);
            }
            let result = result.clone();
            draw(&mut rgb, width, height, &result);
            if let Some((_, stdin)) = &mut render {
                stdin.write_all(&rgb)?;
            }
        }
        frames += 1;
        bar.inc(1);
    }
    bar.finish_and_clear();
    drop(bytes);
    if let Some(out) = &mut out {
        out.flush()?;
    }
    if let Some((mut child, stdin)) = render {
        drop(stdin);
        child.wait()?;
    }
    if let Source::Video { mut child, .. } | Source::Piped { mut child } = source {
        // Stopped early (--max-frames): ffmpeg may still be writing.
        let _ = child.kill();
        child.wait()?;
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{frames} frames in {seconds:.2} s ({:.1} fps), a pose on {with_pose} frames, 0 dropped (offline: every frame processed), {skipped} unreadable files skipped",
        frames as f64 / seconds.max(1e-9)
    );
    if let Some(path) = &args.out {
        println!("poses: {}", path.display());
    }
    if let Some(path) = &args.render {
        println!("rendered: {}", path.display());
    }
    Ok(())
}

/// Converts one `.tflite` file or every one in a folder; prints what it wrote.
fn convert(args: ConvertArgs) -> Result<(), Error> {
    let inputs: Vec<PathBuf> = if args.input.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&args.input)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "tflite"))
            .collect();
        files.sort();
        if args.out.is_some() {
            return Err("--out is for a single input file".into());
        }
        files
    } else {
        vec![args.input.clone()]
    };
    for input in inputs {
        let name = input
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let started = Instant::now();
        let onnx = livepose::core::tflite::tflite_to_onnx(&std::fs::read(&input)?, &name)?;
        let out = args
            .out
            .clone()
            .unwrap_or_else(|| input.with_extension("onnx"));
        std::fs::write(&out, &onnx)?;
        println!(
            "{} -> {} ({} bytes, {:.0} ms)",
            input.display(),
            out.display(),
            onnx.len(),
            started.elapsed().as_secs_f64() * 1000.0
        );
    }
    Ok(())
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Cmd::Run(args) => run(args),
        Cmd::Convert(args) => convert(args),
    };
    if let Err(e) = result {
        eprintln!("livepose: {e}");
        std::process::exit(1);
    }
}
