//! `livepose stream`: streams a clip (through ffmpeg) or a folder of JPEGs to a livepose
//! server at its real frame rate, prints live statistics once a second (frames sent,
//! results, end-to-end latency p50/p95/p99, frames dropped) and writes the results as JSON
//! lines.

use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use livepose::client::{Client, ClientConfig, Event};
use livepose::core::image::JpegSplitter;
use livepose::core::stats::LatencyHistogram;
use livepose::core::wire::control::ServerMessage;

use crate::h264::H264Source;
use crate::video::probe;
use crate::Error;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// A video file or a folder of .jpg files.
    input: PathBuf,
    /// The server's stream endpoint.
    #[arg(long, default_value = "ws://127.0.0.1:8765/ws")]
    url: String,
    /// Frames per second to send at (default: the clip's; 30 for a folder).
    #[arg(long)]
    fps: Option<f64>,
    /// Frame width sent (scaled by ffmpeg, aspect kept; 0: the clip's own).
    #[arg(long, default_value_t = 640)]
    width: u32,
    /// Stop after this many frames.
    #[arg(long)]
    max_frames: Option<usize>,
    /// Write each result as a JSON line here.
    #[arg(long)]
    out: Option<PathBuf>,
    /// How frames travel: `jpeg` (one JPEG each), or `h264` (a clip encoded by OpenH264 as
    /// it is sent: a keyframe first, on the server's request and every 3 s).
    #[arg(long, value_enum, default_value_t = StreamCodec::Jpeg)]
    codec: StreamCodec,
    /// H.264 bitrate in kbit/s.
    #[arg(long, default_value_t = 1000)]
    bitrate_kbps: u32,
}

/// How `livepose stream` sends frames.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum StreamCodec {
    Jpeg,
    H264,
}

fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

/// The clip's frame rate (ffprobe, through `video::probe`).
fn clip_fps(path: &Path) -> Result<f64, Error> {
    Ok(probe(&path.to_string_lossy())?.fps)
}

/// Largest JPEG frame taken from ffmpeg.
const MAX_JPEG: usize = 32 << 20;

/// JPEG frames of a clip (ffmpeg writes MJPEG to a pipe, cut apart by core's
/// `JpegSplitter`) or of a folder.
fn frames(args: &Args) -> Result<(Vec<Vec<u8>>, f64), Error> {
    if args.input.is_dir() {
        let mut files: Vec<_> = std::fs::read_dir(&args.input)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "jpg" || e == "jpeg"))
            .collect();
        files.sort();
        let frames = files
            .iter()
            .take(args.max_frames.unwrap_or(usize::MAX))
            .map(std::fs::read)
            .collect::<Result<_, _>>()?;
        return Ok((frames, args.fps.unwrap_or(30.0)));
    }
    let fps = args.fps.map_or_else(|| clip_fps(&args.input), Ok)?;
    let mut ffmpeg = Command::new("ffmpeg");
    ffmpeg.args(["-v", "error", "-i"]).arg(&args.input);
    if args.width > 0 {
        ffmpeg.args(["-vf", &format!("scale={}:-2", args.width)]);
    }
    if let Some(n) = args.max_frames {
        ffmpeg.args(["-frames:v", &n.to_string()]);
    }
    let mut child = ffmpeg
        .args(["-f", "image2pipe", "-c:v", "mjpeg", "-q:v", "4", "-"])
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("ffmpeg (Debian package ffmpeg) is needed: {e}"))?;
    let mut bytes = Vec::new();
    child
        .stdout
        .take()
        .ok_or("ffmpeg stdout")?
        .read_to_end(&mut bytes)?;
    child.wait()?;
    let mut splitter = JpegSplitter::new(MAX_JPEG);
    splitter.push(&bytes);
    let frames = std::iter::from_fn(|| splitter.next_frame()).collect();
    Ok((frames, fps))
}

pub(crate) fn main(args: Args) -> Result<(), Error> {
    tokio::runtime::Runtime::new()?.block_on(run(args))
}

/// Where the frames come from: JPEGs read beforehand, or a clip encoded as it is sent.
enum Source {
    Jpeg(std::vec::IntoIter<Vec<u8>>),
    H264(Box<H264Source>),
}

impl Source {
    /// Sends the next frame; false when there is none left. An H.264 camera frame that
    /// finds the connection busy is skipped, not encoded (its access unit would displace
    /// the waiting one); one displaced anyway makes the next a keyframe.
    fn send_next(&mut self, client: &Client, skipped: &mut u64) -> Result<bool, Error> {
        match self {
            Source::Jpeg(frames) => Ok(frames.next().is_some_and(|jpeg| {
                client.send_jpeg(jpeg, now_us());
                true
            })),
            Source::H264(video) => {
                if client.is_sending() {
                    *skipped += 1;
                    return video.skip();
                }
                let Some((access_unit, keyframe)) = video.next()? else {
                    return Ok(false);
                };
                let (_, displaced) = client.send_h264(access_unit, keyframe, now_us());
                if displaced {
                    video.request_keyframe();
                }
                Ok(true)
            }
        }
    }

    /// The server asked for a keyframe, or the stream is new (a reconnection).
    fn request_keyframe(&mut self) {
        if let Source::H264(video) = self {
            video.request_keyframe();
        }
    }
}

async fn run(args: Args) -> Result<(), Error> {
    let (mut source, fps) = match args.codec {
        StreamCodec::Jpeg => {
            let (frames, fps) = frames(&args)?;
            if frames.is_empty() {
                return Err(format!("no frames in {}", args.input.display()).into());
            }
            (Source::Jpeg(frames.into_iter()), fps)
        }
        StreamCodec::H264 => {
            if args.input.is_dir() {
                return Err("--codec h264 streams a video file, not a folder".into());
            }
            let fps = args.fps.map_or_else(|| clip_fps(&args.input), Ok)?;
            let video = H264Source::open(
                &args.input,
                args.width,
                fps,
                args.bitrate_kbps,
                args.max_frames,
            )?;
            (Source::H264(Box::new(video)), fps)
        }
    };
    let mut skipped = 0u64;
    let mut out = args
        .out
        .as_ref()
        .map(std::fs::File::create)
        .transpose()?
        .map(BufWriter::new);
    let mut client = Client::start(ClientConfig::new(&args.url));
    let period = Duration::from_secs_f64(1.0 / fps.max(0.1));
    let mut ticks = tokio::time::interval(period);
    let mut report = tokio::time::interval(Duration::from_secs(1));
    report.tick().await;
    let mut latency = LatencyHistogram::new();
    let (mut sent, mut results, mut last_sequence, mut server_dropped) = (0usize, 0u64, 0u64, 0u64);
    let (mut window_sent, mut window_results) = (0usize, 0u64);
    let started = Instant::now();
    let mut window = Instant::now();
    let mut done_sending_at: Option<Instant> = None;
    loop {
        tokio::select! {
            _ = ticks.tick(), if done_sending_at.is_none() => {
                let before = skipped;
                if source.send_next(&client, &mut skipped)? {
                    if skipped == before {
                        sent += 1;
                        window_sent += 1;
                    }
                } else {
                    done_sending_at = Some(Instant::now());
                }
            }
            event = client.next_event() => match event {
                Some(Event::Result(result)) => {
                    results += 1;
                    window_results += 1;
                    last_sequence = result.sequence;
                    server_dropped = result.frames_dropped;
                    latency.record((now_us() - result.capture_ts_us).max(0) as u64);
                    if let Some(out) = &mut out {
                        let poses: Vec<_> = result
                            .poses
                            .iter()
                            .map(|p| {
                                serde_json::json!({
                                    "id": p.id,
                                    "score": p.score,
                                    "landmarks": p.landmarks.iter().map(|l| [l.x, l.y, l.z, l.visibility]).collect::<Vec<_>>(),
                                })
                            })
                            .collect();
                        let line = serde_json::json!({
                            "sequence": result.sequence,
                            "latency_us": now_us() - result.capture_ts_us,
                            "poses": poses,
                        });
                        writeln!(out, "{line}")?;
                    }
                }
                Some(Event::Disconnected(why)) => eprintln!("stream: disconnected ({why}), retrying"),
                Some(Event::Connected) => source.request_keyframe(),
                Some(Event::Control(ServerMessage::KeyframeRequest(_))) => source.request_keyframe(),
                Some(_) => {}
                None => break,
            },
            _ = report.tick() => {
                let s = latency.summary();
                let seconds = window.elapsed().as_secs_f64();
                println!(
                    "sent {:5.1} fps, results {:5.1} fps, latency p50 {:5.1} ms p95 {:5.1} ms p99 {:5.1} ms, dropped {} (server) {} (client)",
                    window_sent as f64 / seconds,
                    window_results as f64 / seconds,
                    s.p50 as f64 / 1000.0,
                    s.p95 as f64 / 1000.0,
                    s.p99 as f64 / 1000.0,
                    server_dropped,
                    client.frames_dropped(),
                );
                (window_sent, window_results, window) = (0, 0, Instant::now());
            }
        }
        // Finished: the last frame answered, or a second of silence after sending it.
        if let Some(at) = done_sending_at {
            if last_sequence >= sent as u64 || at.elapsed() > Duration::from_secs(2) {
                break;
            }
        }
    }
    if let Some(out) = &mut out {
        out.flush()?;
    }
    let s = latency.summary();
    println!(
        "{sent} frames sent in {:.1} s ({skipped} camera frames skipped: connection busy), {results} results, latency p50 {:.1} ms p95 {:.1} ms p99 {:.1} ms, {server_dropped} dropped by the server",
        started.elapsed().as_secs_f64(),
        s.p50 as f64 / 1000.0,
        s.p95 as f64 / 1000.0,
        s.p99 as f64 / 1000.0,
    );
    Ok(())
}
