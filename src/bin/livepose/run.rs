//! `livepose run`: the pose pipeline over every frame of a clip, a folder of images or a
//! video on standard input (through ffmpeg), writing one JSON line per frame and optionally
//! the skeletons drawn onto the frames as a video, so a person can look at the result.

use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use livepose::core::image::RgbView;
use livepose::core::image::{draw_poses, DrawStyle, RgbImage};
use livepose::core::inference::{Frame, PoseResult};
use livepose::core::types::Handedness;
use livepose::core::Timestamp;

use crate::options::PipelineArgs;
use crate::video::{encoder, ffmpeg_reader, image_files, probe, read_ppm_header};
use crate::Error;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// A video file, a directory of .jpg/.jpeg/.png files, or `-` for a video on stdin.
    input: String,
    #[command(flatten)]
    pipeline: PipelineArgs,
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
}

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

pub(crate) fn main(args: Args) -> Result<(), Error> {
    let builder = args.pipeline.options()?.builder();
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
            Source::Video {
                child: ffmpeg_reader(&args.input, &["-f", "rawvideo", "-pix_fmt", "rgb24"])?,
                width: info.width,
                height: info.height,
            },
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
    let mut decoded = RgbImage::new();
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
            let poses = result.poses.clone();
            let mut image = RgbImage::from_rgb8(width, height, std::mem::take(&mut rgb))?;
            // Green bones, red joints, yellow hands (tests/cli.rs finds the joints by colour).
            let style = DrawStyle {
                bone: [0, 255, 0],
                joint: [255, 40, 40],
                hand: [255, 220, 0],
                thickness: width.max(height).div_ceil(400),
                min_visibility: 0.5,
            };
            draw_poses(&mut image, &poses, &style);
            if let Some((_, stdin)) = &mut render {
                stdin.write_all(image.data())?;
            }
            rgb = image.into_data();
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
