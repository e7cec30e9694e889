//! What a source is: its URL, checked and sorted into the kinds ffmpeg reads, and the
//! `ROOM=URL` pairs of the `sources` option.

use std::path::PathBuf;

use super::policy::TlsCheck;
use super::redact::{RedactedUrl, SourceUrl};
use crate::rooms::RoomName;

/// How ffmpeg reads a source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SourceKind {
    /// `http://` or `https://`: an MJPEG stream (`multipart/x-mixed-replace`, as ESP32
    /// camera boards serve it); its JPEGs pass through without re-encoding.
    Mjpeg,
    /// `rtsp://` or `rtsps://` (over TCP); H.264 passes through, other codecs are re-encoded
    /// to JPEG.
    Rtsp,
    /// A local video file (`file:///path`, or a plain path), looped at its own frame rate;
    /// re-encoded to JPEG.
    File(PathBuf),
}

impl SourceKind {
    /// Its name in answers (`mjpeg`, `rtsp`, `file`).
    pub(crate) fn as_str(&self) -> &'static str {
        match self {
            SourceKind::Mjpeg => "mjpeg",
            SourceKind::Rtsp => "rtsp",
            SourceKind::File(_) => "file",
        }
    }
}

/// A source of a room, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SourceSpec {
    /// The URL, its secrets hidden from all but ffmpeg.
    pub(crate) url: SourceUrl,
    pub(crate) kind: SourceKind,
    /// Stop (and forget) the source when its room's last viewer leaves.
    pub(crate) stop_when_unwatched: bool,
    /// How an `https://` or `rtsps://` source checks the camera's certificate (the
    /// server's `source_tls_insecure` / `source_ca_file`; verified by default).
    pub(crate) tls: TlsCheck,
}

/// Why a source URL is refused (the URL is shown redacted).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SpecError {
    #[error("the source URL is empty")]
    Empty,
    #[error("the source URL {0:?} has control characters or begins with `-`")]
    Unsafe(String),
    #[error(
        "unsupported source scheme {0:?} (expected http://, https:// (MJPEG), rtsp://, rtsps:// \
         or a local file: file:///path or a path)"
    )]
    Scheme(String),
    #[error("the source file {0:?} does not exist")]
    NoFile(PathBuf),
}

impl SourceSpec {
    /// Checks `url` and tells its kind (a file must exist).
    pub(crate) fn parse(url: &str, stop_when_unwatched: bool) -> Result<Self, SpecError> {
        let url = url.trim();
        if url.is_empty() {
            return Err(SpecError::Empty);
        }
        let source_url = SourceUrl::new(url);
        // ffmpeg takes its input as an argument: never let it read as an option.
        if url.starts_with('-') || url.chars().any(char::is_control) {
            let shown = source_url.redacted().to_string();
            return Err(SpecError::Unsafe(shown));
        }
        let kind = match url.split_once("://") {
            Some((scheme, rest)) => match scheme.to_ascii_lowercase().as_str() {
                "http" | "https" => SourceKind::Mjpeg,
                "rtsp" | "rtsps" => SourceKind::Rtsp,
                "file" => file(PathBuf::from(rest))?,
                other => return Err(SpecError::Scheme(other.to_string())),
            },
            None => file(PathBuf::from(url))?,
        };
        Ok(SourceSpec {
            url: source_url,
            kind,
            stop_when_unwatched,
            tls: TlsCheck::default(),
        })
    }

    /// Whether ffmpeg reaches the source over TLS (`https://`, `rtsps://`).
    pub(crate) fn is_tls(&self) -> bool {
        let url = self.url.for_ffmpeg().to_ascii_lowercase();
        url.starts_with("https://") || url.starts_with("rtsps://")
    }

    /// The URL as it may be shown (viewers, answers, logs).
    pub(crate) fn public_url(&self) -> &RedactedUrl {
        self.url.redacted()
    }
}

fn file(path: PathBuf) -> Result<SourceKind, SpecError> {
    if path.is_file() {
        Ok(SourceKind::File(path))
    } else {
        Err(SpecError::NoFile(path))
    }
}

/// A `ROOM=URL` pair of the `sources` option, split and checked.
pub(crate) fn parse_pair(pair: &str) -> Result<(RoomName, SourceSpec), String> {
    let Some((room, url)) = pair.split_once('=') else {
        return Err(format!(
            "{:?} is not ROOM=URL",
            SourceUrl::new(pair).redacted().as_str()
        ));
    };
    let room = RoomName::parse(room).map_err(|e| format!("the room of a source: {e}"))?;
    let spec = SourceSpec::parse(url, false).map_err(|e| e.to_string())?;
    Ok((room, spec))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_sorted_by_kind_and_bad_ones_refused() {
        let kind = |url: &str| SourceSpec::parse(url, false).map(|s| s.kind);
        assert_eq!(kind("http://192.168.1.50:81/stream"), Ok(SourceKind::Mjpeg));
        assert_eq!(kind("HTTPS://cam/mjpg"), Ok(SourceKind::Mjpeg));
        assert_eq!(kind("rtsp://u:p@cam:554/live"), Ok(SourceKind::Rtsp));
        let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
        assert_eq!(
            kind(&format!("file://{manifest}")),
            Ok(SourceKind::File(manifest.into()))
        );
        assert!(matches!(kind("/no/such.mp4"), Err(SpecError::NoFile(_))));
        assert!(matches!(kind("ftp://x/y"), Err(SpecError::Scheme(s)) if s == "ftp"));
        assert!(matches!(kind("-i"), Err(SpecError::Unsafe(_))));
        assert!(matches!(kind("http://a\nb"), Err(SpecError::Unsafe(_))));
        assert_eq!(kind("  "), Err(SpecError::Empty));
        // A refusal shows the URL redacted.
        let why = SourceSpec::parse("rtsp://u:s3cret@cam/a\tb", false).unwrap_err();
        assert!(!why.to_string().contains("s3cret"), "{why}");
    }

    #[test]
    fn pairs_need_a_room_and_a_url() {
        let (room, spec) = parse_pair("door=http://cam:81/stream").unwrap();
        assert_eq!((room.as_str(), spec.kind), ("door", SourceKind::Mjpeg));
        // The URL may hold `=` itself.
        assert!(parse_pair("door=http://cam/?a=b").is_ok());
        for bad in [
            "door",
            "=http://cam",
            "a/b=http://cam",
            "door=ftp://x",
            "a\tb=http://cam",
        ] {
            assert!(parse_pair(bad).is_err(), "{bad}");
        }
        let long = format!("{}=http://cam", "x".repeat(129));
        assert!(parse_pair(&long).is_err());
    }
}
