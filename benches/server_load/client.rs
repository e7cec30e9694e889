//! WebSocket clients over loopback: open-loop paced streams that record, per result, when
//! its frame was sent, the client latency and the server total; a client that never reads;
//! connections cut by a TCP reset.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt, StreamExt};
use livepose::core::image::Codec;
use livepose::core::wire::{FrameFlags, FrameHeader, ImageFormat, ResultView};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

pub type Socket = WebSocketStream<TcpStream>;

/// The JPEG frames every client sends in turn.
pub type Frames = Arc<Vec<Vec<u8>>>;

/// 30 frames of the outdoor clip at 854x480, as JPEGs (ffmpeg, cached under the target
/// folder by the shared test support).
pub fn frames() -> Frames {
    Arc::new(
        (0..30)
            .map(|i| {
                livepose_test_support::frames::jpeg_frame(
                    livepose_test_support::frames::OUTDOOR,
                    i,
                    854,
                    480,
                )
            })
            .collect(),
    )
}

fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

/// A protocol v1 frame message of a JPEG.
pub fn frame_message(sequence: u64, jpeg: &[u8]) -> Message {
    encoded_message(sequence, jpeg, Codec::Jpeg)
}

/// A protocol v1 frame message of an encoded image, or of an H.264 access unit (its
/// `KEYFRAME` flag read from its content).
pub fn encoded_message(sequence: u64, payload: &[u8], codec: Codec) -> Message {
    let mut header = FrameHeader::new(sequence, now_us(), ImageFormat::Encoded(codec));
    let keyframe = codec == Codec::H264
        && livepose::core::video::scan_access_unit(payload).is_ok_and(|au| au.keyframe);
    if keyframe {
        header.flags |= FrameFlags::KEYFRAME;
    }
    let mut bytes = Vec::with_capacity(payload.len() + 64);
    header
        .encode_with_payload(payload, &mut bytes)
        .expect("encode a frame");
    Message::Binary(bytes.into())
}

/// A WebSocket to `ws://addr/ws` over a TCP socket with TCP_NODELAY; with `reset`, the
/// socket has SO_LINGER 0, so dropping it sends a TCP reset (no WebSocket close).
pub async fn connect(addr: SocketAddr, reset: bool) -> Result<Socket, String> {
    let tcp = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    tcp.set_nodelay(true).map_err(|e| e.to_string())?;
    if reset {
        socket2::SockRef::from(&tcp)
            .set_linger(Some(Duration::ZERO))
            .map_err(|e| e.to_string())?;
    }
    let (socket, _) = tokio_tungstenite::client_async(format!("ws://{addr}/ws"), tcp)
        .await
        .map_err(|e| e.to_string())?;
    Ok(socket)
}

/// One result as the client saw it.
#[derive(Clone, Copy, Debug)]
pub struct Sample {
    /// When its frame was sent, from the stream's start.
    pub sent_at: Duration,
    /// Frame sent to result received, client clock (µs).
    pub latency_us: u64,
    /// `server_end_us - server_recv_us` (µs).
    pub server_total_us: u64,
}

/// What one paced stream saw.
#[derive(Debug, Default)]
pub struct StreamRun {
    /// Frames sent.
    pub sent: u64,
    /// Every result, in arrival order.
    pub samples: Vec<Sample>,
    /// Why it ended early, if it did.
    pub error: Option<String>,
}

impl StreamRun {
    /// Latency and server-total percentiles of the results whose frame was sent in `window`.
    pub fn summaries(&self, window: std::ops::Range<Duration>) -> (Percentiles, Percentiles) {
        let kept: Vec<&Sample> = self
            .samples
            .iter()
            .filter(|s| window.contains(&s.sent_at))
            .collect();
        (
            Percentiles::of(kept.iter().map(|s| s.latency_us).collect()),
            Percentiles::of(kept.iter().map(|s| s.server_total_us).collect()),
        )
    }
}

/// Exact percentiles (nearest rank) of samples in µs.
#[derive(Debug, Clone, Copy, Default)]
pub struct Percentiles {
    pub count: usize,
    pub p50: u64,
    pub p95: u64,
}

impl Percentiles {
    pub fn of(mut v: Vec<u64>) -> Percentiles {
        v.sort_unstable();
        let at = |q: f64| {
            let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len().max(1));
            v.get(rank - 1).copied().unwrap_or(0)
        };
        Percentiles {
            count: v.len(),
            p50: at(0.50),
            p95: at(0.95),
        }
    }
}

/// `fps` JPEG frames per second for `run_for`, on a fixed schedule (never waiting for
/// results), reading results meanwhile; then up to 1 s more for the last results. Each
/// result received also counts in `results`, if given.
pub async fn paced(
    addr: SocketAddr,
    frames: Frames,
    first_frame: usize,
    fps: f64,
    run_for: Duration,
    results: Option<Arc<AtomicU64>>,
) -> StreamRun {
    paced_as(
        addr,
        frames,
        Codec::Jpeg,
        first_frame,
        fps,
        run_for,
        results,
    )
    .await
}

/// [`paced`] with frames encoded by `codec`: for H.264, `frames` is a sequence of access
/// units that starts with a keyframe (looped, it stays decodable).
pub async fn paced_as(
    addr: SocketAddr,
    frames: Frames,
    codec: Codec,
    first_frame: usize,
    fps: f64,
    run_for: Duration,
    results: Option<Arc<AtomicU64>>,
) -> StreamRun {
    let socket = match connect(addr, false).await {
        Ok(socket) => socket,
        Err(e) => {
            return StreamRun {
                error: Some(format!("connect: {e}")),
                ..StreamRun::default()
            }
        }
    };
    let (mut sink, mut source) = socket.split();
    let start = Instant::now();
    let count = (run_for.as_secs_f64() * fps).round() as u64;
    // Send instants by sequence - 1, pushed before each send.
    let sent_at: Arc<Mutex<Vec<Instant>>> =
        Arc::new(Mutex::new(Vec::with_capacity(count as usize)));
    let done = Arc::new(AtomicBool::new(false));
    let sender = {
        let (sent_at, done) = (sent_at.clone(), done.clone());
        tokio::spawn(async move {
            // Burst (the default): a late tick is made up at once, the schedule stays fixed.
            let mut ticks = tokio::time::interval_at(start, Duration::from_secs_f64(1.0 / fps));
            let mut error = None;
            for i in 0..count {
                ticks.tick().await;
                let frame = &frames[(first_frame + i as usize) % frames.len()];
                let message = encoded_message(i + 1, frame, codec);
                sent_at.lock().unwrap().push(Instant::now());
                if let Err(e) = sink.send(message).await {
                    error = Some(format!("send: {e}"));
                    break;
                }
            }
            done.store(true, Ordering::SeqCst);
            (sink, error)
        })
    };
    let mut run = StreamRun::default();
    let deadline = start + run_for + Duration::from_secs(1);
    while let Ok(Some(message)) = tokio::time::timeout_at(deadline, source.next()).await {
        let received = Instant::now();
        let bytes = match message {
            Ok(Message::Binary(bytes)) => bytes,
            Ok(Message::Close(_)) => break,
            Ok(_) => continue,
            Err(e) => {
                run.error = Some(format!("read: {e}"));
                break;
            }
        };
        let Ok(result) = ResultView::parse(&bytes) else {
            continue;
        };
        let sent = {
            let sent_at = sent_at.lock().unwrap();
            sent_at
                .get((result.sequence as usize).wrapping_sub(1))
                .copied()
        };
        let Some(sent) = sent else { continue };
        run.samples.push(Sample {
            sent_at: sent - start,
            latency_us: (received - sent).as_micros() as u64,
            server_total_us: result.server_end_us.saturating_sub(result.server_recv_us),
        });
        if let Some(results) = &results {
            results.fetch_add(1, Ordering::Relaxed);
        }
        if done.load(Ordering::SeqCst) && result.sequence >= count {
            break;
        }
    }
    run.sent = sent_at.lock().unwrap().len() as u64;
    if let Ok((mut sink, error)) = sender.await {
        run.error = run.error.or(error);
        let _ = tokio::time::timeout(Duration::from_secs(1), sink.close()).await;
    }
    run
}

/// What the client that never reads managed.
#[derive(Debug, Default)]
pub struct NeverReadRun {
    /// Frames it sent.
    pub sent: u64,
    /// When a send first stalled for more than 1 s (from its start).
    pub first_stall: Option<Duration>,
    /// When a send failed (from its start), and why: the server closed the socket.
    pub failed: Option<(Duration, String)>,
    /// Last read once a second while it was open: bytes unread in its receive queue, and
    /// in the server's send queue towards it (`/proc/net/tcp`).
    pub unread: Option<(u64, u64)>,
}

/// Sends `fps` frames per second for `run_for` and never reads: its receive buffer fills.
pub async fn never_read(
    addr: SocketAddr,
    frames: Frames,
    fps: f64,
    run_for: Duration,
) -> NeverReadRun {
    let mut run = NeverReadRun::default();
    let socket = match connect(addr, false).await {
        Ok(socket) => socket,
        Err(e) => {
            run.failed = Some((Duration::ZERO, format!("connect: {e}")));
            return run;
        }
    };
    let port = socket
        .get_ref()
        .local_addr()
        .map(|a| a.port())
        .unwrap_or_default();
    // The read half is kept, never polled: pings go unanswered too.
    let (mut sink, _source) = socket.split();
    let start = Instant::now();
    let mut ticks = tokio::time::interval_at(start, Duration::from_secs_f64(1.0 / fps));
    for i in 0..(run_for.as_secs_f64() * fps).round() as u64 {
        ticks.tick().await;
        if i % fps.round().max(1.0) as u64 == 0 {
            let client_rx = crate::server::tcp_queues(port, addr.port()).map(|q| q.1);
            let server_tx = crate::server::tcp_queues(addr.port(), port).map(|q| q.0);
            run.unread = client_rx.zip(server_tx).or(run.unread);
        }
        let message = frame_message(i + 1, &frames[i as usize % frames.len()]);
        match tokio::time::timeout(Duration::from_secs(1), sink.send(message)).await {
            Ok(Ok(())) => run.sent += 1,
            Ok(Err(e)) => {
                run.failed = Some((start.elapsed(), format!("send: {e}")));
                break;
            }
            Err(_) => {
                run.first_stall = run.first_stall.or(Some(start.elapsed()));
            }
        }
    }
    // Dropped without a close: the socket just closes.
    run
}

/// How a storm connection ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// Reset right after its last frame (that frame is being decoded or inferred).
    AfterSend,
    /// Reset after a result came back and another frame was sent.
    AfterResult,
    /// Reset in the middle of a frame message (half its bytes written).
    MidMessage,
}

/// How one storm connection went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StormOutcome {
    /// Opened, sent its frames and was reset.
    Cut,
    /// Could not open (refused by the server, or the connect failed).
    Refused(String),
}

/// Opens a connection with SO_LINGER 0, sends `frames_n` frames, and ends it as `cut` says:
/// dropped, so the kernel sends a TCP reset, never a WebSocket close.
pub async fn storm_one(
    addr: SocketAddr,
    frames: Frames,
    index: usize,
    frames_n: u64,
    cut: Cut,
) -> StormOutcome {
    let mut socket = match connect(addr, true).await {
        Ok(socket) => socket,
        Err(e) => return StormOutcome::Refused(e),
    };
    for i in 0..frames_n {
        let jpeg = &frames[(index + i as usize) % frames.len()];
        if socket.send(frame_message(i + 1, jpeg)).await.is_err() {
            return StormOutcome::Cut;
        }
    }
    match cut {
        Cut::AfterSend => {}
        Cut::AfterResult => {
            let first = async {
                while let Some(Ok(message)) = socket.next().await {
                    if let Message::Binary(_) = message {
                        break;
                    }
                }
            };
            let _ = tokio::time::timeout(Duration::from_secs(2), first).await;
            let _ = socket
                .send(frame_message(frames_n + 1, &frames[index % frames.len()]))
                .await;
        }
        Cut::MidMessage => {
            // A masked binary frame header announcing the whole message, then half of it.
            let mut bytes = Vec::new();
            FrameHeader::new(frames_n + 1, now_us(), ImageFormat::Encoded(Codec::Jpeg))
                .encode_with_payload(&frames[index % frames.len()], &mut bytes)
                .expect("encode a frame");
            let mut raw = vec![0x82, 0x80 | 127];
            raw.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
            raw.extend_from_slice(&[0x12, 0x34, 0x56, 0x78]);
            raw.extend_from_slice(&bytes[..bytes.len() / 2]);
            let _ = socket.get_mut().write_all(&raw).await;
        }
    }
    drop(socket);
    StormOutcome::Cut
}
