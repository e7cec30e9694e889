//! An RTSP camera for tests and benches: ffmpeg sends a clip, looped, as RTP to a relay
//! that serves it over RTSP (interleaved on the TCP connection, as `-rtsp_transport tcp`
//! asks) to any number of clients. ffmpeg cannot serve RTSP itself.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::broadcast;

/// A running camera: its URL; dropping it stops ffmpeg (the relay's tasks end with the
/// runtime).
pub struct RtspRelay {
    /// `rtsp://127.0.0.1:PORT/live`.
    pub url: String,
    ffmpeg: Child,
}

impl RtspRelay {
    /// ffmpeg sends `clip`, looped at its own rate, encoded with `codec` (ffmpeg's output
    /// arguments, e.g. `["-c:v", "copy"]`); `dir` holds the SDP file. Needs a tokio
    /// runtime (the relay's tasks run on it).
    pub async fn start(clip: &Path, dir: &Path, codec: &[&str]) -> RtspRelay {
        let udp = UdpSocket::bind("127.0.0.1:0").await.expect("a UDP port");
        let sdp_file = dir.join("stream.sdp");
        let _ = std::fs::remove_file(&sdp_file);
        let ffmpeg = Command::new("ffmpeg")
            .args(["-v", "error", "-re", "-stream_loop", "-1", "-i"])
            .arg(clip)
            .arg("-an")
            .args(codec)
            .args(["-flags", "+global_header", "-f", "rtp", "-sdp_file"])
            .arg(&sdp_file)
            .arg(format!("rtp://{}", udp.local_addr().expect("its address")))
            .stdin(Stdio::null())
            .spawn()
            .expect("ffmpeg");
        let mut sdp = String::new();
        for _ in 0..300 {
            sdp = std::fs::read_to_string(&sdp_file).unwrap_or_default();
            if sdp.contains("a=fmtp") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(sdp.contains("a=fmtp"), "ffmpeg wrote no SDP in 30 s");
        let sdp = format!(
            "{}a=control:trackID=0\r\n",
            sdp.replace("\r\n", "\n").replace('\n', "\r\n")
        );
        let (packets, _) = broadcast::channel::<Vec<u8>>(256);
        let relay = packets.clone();
        tokio::spawn(async move {
            let mut buf = vec![0; 65536];
            while let Ok(n) = udp.recv(&mut buf).await {
                let _ = relay.send(buf[..n].to_vec());
            }
        });
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a TCP port");
        let url = format!(
            "rtsp://{}/live",
            listener.local_addr().expect("its address")
        );
        let base = url.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let session = session(socket, base.clone(), sdp.clone(), packets.subscribe());
                tokio::spawn(session);
            }
        });
        RtspRelay { url, ffmpeg }
    }
}

impl RtspRelay {
    /// ffmpeg's process id.
    pub fn id(&self) -> u32 {
        self.ffmpeg.id()
    }
}

impl Drop for RtspRelay {
    fn drop(&mut self) {
        let _ = self.ffmpeg.kill();
        let _ = self.ffmpeg.wait();
    }
}

/// One RTSP client: OPTIONS, DESCRIBE, SETUP, PLAY, then the RTP packets on channel 0.
async fn session(
    mut socket: tokio::net::TcpStream,
    base: String,
    sdp: String,
    mut packets: broadcast::Receiver<Vec<u8>>,
) {
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") else {
            match socket.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => request.extend_from_slice(&buf[..n]),
            }
            continue;
        };
        let head = String::from_utf8_lossy(&request[..end]).to_string();
        request.drain(..end + 4);
        let method = head.split_whitespace().next().unwrap_or("").to_string();
        let cseq = head
            .lines()
            .find_map(|l| l.strip_prefix("CSeq:"))
            .unwrap_or("0")
            .trim()
            .to_string();
        let extra = match method.as_str() {
            "OPTIONS" => "Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN\r\n".to_string(),
            "DESCRIBE" => format!(
                "Content-Base: {base}/\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
                sdp.len()
            ),
            "SETUP" => "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\nSession: 1234\r\n".into(),
            "PLAY" => "Session: 1234\r\nRange: npt=0.000-\r\n".into(),
            _ => String::new(),
        };
        let blank = if method == "DESCRIBE" { "" } else { "\r\n" };
        let answer = format!("RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\n{extra}{blank}");
        if socket.write_all(answer.as_bytes()).await.is_err() {
            return;
        }
        if method == "PLAY" {
            break;
        }
    }
    loop {
        let packet = match packets.recv().await {
            Ok(packet) => packet,
            Err(broadcast::error::RecvError::Lagged(_)) => continue,
            Err(_) => return,
        };
        let mut framed = vec![b'$', 0];
        framed.extend_from_slice(&(packet.len() as u16).to_be_bytes());
        framed.extend_from_slice(&packet);
        if socket.write_all(&framed).await.is_err() {
            return;
        }
    }
}
