//! What a source is: its URL, checked and sorted into the kinds ffmpeg reads.

use std::path::PathBuf;

/// How ffmpeg reads a source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SourceKind {
    /// `http://` or `https://`: an MJPEG stream (`multipart/x-mixed-replace`, as ESP32
    /// camera boards serve it); its JPEGs pass through without re-encoding.
    Mjpeg,
    /// `rtsp://` or `rtsps://` (over TCP); re-encoded to JPEG.
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
    /// The URL as given.
    pub(crate) url: String,
    pub(crate) kind: SourceKind,
    /// Stop (and forget) the source when its room's last viewer leaves.
    pub(crate) stop_when_unwatched: bool,
}

/// Why a source URL is refused.
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
        // ffmpeg takes its input as an argument: never let it read as an option.
        if url.starts_with('-') || url.chars().any(char::is_control) {
            return Err(SpecError::Unsafe(url.to_string()));
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
            url: url.to_string(),
            kind,
            stop_when_unwatched,
        })
    }

    /// The URL with any password replaced by `***`, to show to viewers and in logs.
    pub(crate) fn public_url(&self) -> String {
        redact(&self.url)
    }
}

fn file(path: PathBuf) -> Result<SourceKind, SpecError> {
    if path.is_file() {
        Ok(SourceKind::File(path))
    } else {
        Err(SpecError::NoFile(path))
    }
}

/// `url` with the password of its user info (`scheme://user:password@host`) as `***`.
pub(crate) fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((user_info, host)) => {
            let user = user_info
                .split_once(':')
                .map_or(user_info, |(user, _)| user);
            let hidden = if user_info.contains(':') { ":***" } else { "" };
            format!("{scheme}://{user}{hidden}@{host}{path}")
        }
        None => url.to_string(),
    }
}

/// A `ROOM=URL` pair of the `sources` option, split and checked (the room is a non-empty
/// path segment).
pub(crate) fn parse_pair(pair: &str) -> Result<(String, SourceSpec), String> {
    let Some((room, url)) = pair.split_once('=') else {
        return Err(format!("{pair:?} is not ROOM=URL"));
    };
    if room.is_empty() || room.contains(['/', '?', '#']) || room.chars().any(char::is_control) {
        return Err(format!(
            "{room:?} in {pair:?} is not a room name (non-empty, no `/`, `?`, `#`)"
        ));
    }
    let spec = SourceSpec::parse(url, false).map_err(|e| e.to_string())?;
    Ok((room.to_string(), spec))
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
    }

    #[test]
    fn passwords_are_hidden() {
        assert_eq!(
            redact("rtsp://admin:secret@cam:554/live?x=@"),
            "rtsp://admin:***@cam:554/live?x=@"
        );
        assert_eq!(redact("rtsp://admin@cam/live"), "rtsp://admin@cam/live");
        assert_eq!(redact("http://cam:81/stream"), "http://cam:81/stream");
        assert_eq!(redact("/videos/a.mp4"), "/videos/a.mp4");
    }

    #[test]
    fn pairs_need_a_room_and_a_url() {
        let (room, spec) = parse_pair("door=http://cam:81/stream").unwrap();
        assert_eq!((room.as_str(), spec.kind), ("door", SourceKind::Mjpeg));
        // The URL may hold `=` itself.
        assert!(parse_pair("door=http://cam/?a=b").is_ok());
        for bad in ["door", "=http://cam", "a/b=http://cam", "door=ftp://x"] {
            assert!(parse_pair(bad).is_err(), "{bad}");
        }
    }
}
