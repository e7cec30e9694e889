//! The ffmpeg subprocess that reads a source and writes its frames on its standard output:
//! JPEG files back to back ([`livepose_core::image::JpegSplitter`] cuts them apart), or an
//! RTSP camera's H.264 as it is, in Annex B form
//! ([`livepose_core::video::AccessUnitSplitter`]).
//! The source's URL as given is ffmpeg's argument and goes nowhere else; ffmpeg's standard
//! error, which names it, has the URL's secrets hidden as each line is read.

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdout, Command};

use super::policy::TlsCheck;
use super::spec::{SourceKind, SourceSpec};

/// JPEG quality of re-encoded frames (ffmpeg's `-q:v`: 2 best .. 31 worst).
const QUALITY: &str = "4";

/// The `ffmpeg` executable on `PATH`, if there is one.
pub(crate) fn find() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("ffmpeg"))
        .find(|exe| exe.is_file())
}

/// What ffmpeg writes on its standard output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Output {
    /// JPEG files back to back: an MJPEG source's own, anything else re-encoded.
    Jpeg,
    /// The source's H.264 as it is (`-c:v copy`), as an Annex B byte stream whose
    /// keyframes carry their SPS and PPS.
    H264,
}

/// ffmpeg's arguments for `spec`: frames out as `output` on standard output, no audio.
pub(crate) fn args(spec: &SourceSpec, output: Output) -> Vec<String> {
    let mut args: Vec<String> = ["-nostdin", "-hide_banner", "-loglevel", "error"]
        .map(String::from)
        .to_vec();
    if let SourceKind::File(_) = spec.kind {
        // Looped, at the file's own frame rate.
        args.extend(["-re", "-stream_loop", "-1"].map(String::from));
    }
    args.extend(input_args(spec));
    let out: &[&str] = match (output, &spec.kind) {
        (Output::H264, _) => &[
            "-an",
            "-c:v",
            "copy",
            "-bsf:v",
            "h264_mp4toannexb,dump_extra",
            "-f",
            "h264",
        ],
        // The camera's JPEGs as they are.
        (Output::Jpeg, SourceKind::Mjpeg) => &["-an", "-c:v", "copy", "-f", "mjpeg"],
        (Output::Jpeg, _) => &[
            "-an", "-c:v", "mjpeg", "-q:v", QUALITY, "-pix_fmt", "yuvj420p", "-f", "mjpeg",
        ],
    };
    args.extend(out.iter().map(|a| a.to_string()));
    args.push("pipe:1".into());
    args
}

/// How ffmpeg and ffprobe open `spec`: certificate checks, RTSP over TCP, the input.
pub(crate) fn input_args(spec: &SourceSpec) -> Vec<String> {
    let mut args = Vec::new();
    // ffmpeg checks no certificate unless told to (`-tls_verify 1`).
    if spec.is_tls() {
        match &spec.tls {
            TlsCheck::Verify => args.extend(["-tls_verify", "1"].map(String::from)),
            TlsCheck::VerifyWith(ca) => {
                args.extend(["-tls_verify", "1", "-ca_file"].map(String::from));
                args.push(ca.display().to_string());
            }
            TlsCheck::Off => {}
        }
    }
    if spec.kind == SourceKind::Rtsp {
        args.extend(["-rtsp_transport", "tcp"].map(String::from));
    }
    args.push("-i".into());
    args.push(match &spec.kind {
        SourceKind::File(path) => path_arg(path),
        _ => spec.url.for_ffmpeg().to_string(),
    });
    args
}

/// A path as an ffmpeg input: `file:` in front, so that no part of it reads as a protocol.
fn path_arg(path: &Path) -> String {
    format!("file:{}", path.display())
}

/// A running ffmpeg: its stdout (the JPEGs) and the last line it wrote on stderr (the
/// source's secrets hidden).
pub(crate) struct Ffmpeg {
    pub(crate) child: Child,
    pub(crate) stdout: ChildStdout,
    last_error: Arc<Mutex<String>>,
    /// Reads stderr until ffmpeg closes it.
    stderr_reader: Option<tokio::task::JoinHandle<()>>,
}

impl Ffmpeg {
    /// Starts `exe` for `spec`, writing `output` (killed if dropped).
    pub(crate) fn spawn(exe: &Path, spec: &SourceSpec, output: Output) -> std::io::Result<Ffmpeg> {
        let mut child = Command::new(exe)
            .args(args(spec, output))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| std::io::Error::other("ffmpeg has no stdout"))?;
        let last_error = Arc::new(Mutex::new(String::new()));
        let stderr_reader = child.stderr.take().map(|stderr| {
            let (last_error, url) = (last_error.clone(), spec.url.clone());
            // Ends at ffmpeg's exit (its stderr closes).
            tokio::spawn(async move {
                let mut lines = BufReader::new(stderr).lines();
                // The last line, with the last one about a certificate (TLS errors are
                // followed by a plain "Input/output error").
                let mut certificate = None;
                while let Ok(Some(line)) = lines.next_line().await {
                    if line.trim().is_empty() {
                        continue;
                    }
                    let line = url.hide(&line);
                    if line.to_ascii_lowercase().contains("certificate") {
                        certificate = Some(line.clone());
                    }
                    *last_error.lock() = match &certificate {
                        Some(c) if *c != line => format!("{line} ({c})"),
                        _ => line,
                    };
                }
            })
        });
        Ok(Ffmpeg {
            child,
            stdout,
            last_error,
            stderr_reader,
        })
    }

    /// Gives ffmpeg `grace` to end by itself, then kills it, and waits for it either way
    /// (so that it leaves no zombie). Returns how it ended if it ended by itself, and the
    /// last line it wrote on stderr (its last error, the URL's secrets hidden; empty if
    /// none).
    pub(crate) async fn stop(mut self, grace: Duration) -> (Option<ExitStatus>, String) {
        let exited = match tokio::time::timeout(grace, self.child.wait()).await {
            Ok(Ok(status)) => Some(status),
            _ => None,
        };
        let _ = self.child.kill().await;
        if let Some(reader) = self.stderr_reader.take() {
            // Its stderr is closed now: the reader ends at once (unless something else holds
            // the pipe open; then it is not waited for).
            if tokio::time::timeout(Duration::from_millis(500), reader)
                .await
                .is_err()
            {
                tracing::debug!("ffmpeg's stderr stayed open");
            }
        }
        let last_error = self.last_error.lock().clone();
        (exited, last_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mjpeg_is_copied_and_the_rest_reencoded() {
        let spec = |url: &str| SourceSpec::parse(url, false).unwrap();
        let args = |spec: &SourceSpec| args(spec, Output::Jpeg);
        let mjpeg = args(&spec("http://cam:81/stream")).join(" ");
        assert!(mjpeg.contains("-i http://cam:81/stream -an -c:v copy -f mjpeg pipe:1"));
        let rtsp = args(&spec("rtsp://cam/live")).join(" ");
        assert!(rtsp.contains("-rtsp_transport tcp -i rtsp://cam/live -an -c:v mjpeg"));
        let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
        let https = args(&spec("https://cam/stream")).join(" ");
        assert!(https.contains("-tls_verify 1 -i https://cam/stream"));
        let mut insecure = spec("rtsps://cam/live");
        insecure.tls = TlsCheck::Off;
        assert!(!args(&insecure).join(" ").contains("tls_verify"));
        let mut trusted = spec("rtsps://cam/live");
        trusted.tls = TlsCheck::VerifyWith("/ca.pem".into());
        let trusted = args(&trusted).join(" ");
        assert!(trusted.contains("-tls_verify 1 -ca_file /ca.pem -rtsp_transport tcp"));
        let file = args(&spec(manifest)).join(" ");
        assert!(file.contains(&format!(
            "-re -stream_loop -1 -i file:{manifest} -an -c:v mjpeg"
        )));
    }

    #[test]
    fn h264_is_copied_as_annexb_with_its_parameter_sets() {
        let spec = SourceSpec::parse("rtsp://cam/live", false).unwrap();
        let copy = args(&spec, Output::H264).join(" ");
        assert!(copy.ends_with(
            "-rtsp_transport tcp -i rtsp://cam/live -an -c:v copy \
             -bsf:v h264_mp4toannexb,dump_extra -f h264 pipe:1"
        ));
        assert_eq!(
            input_args(&spec).join(" "),
            "-rtsp_transport tcp -i rtsp://cam/live"
        );
    }
}
