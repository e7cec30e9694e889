//! Server-side camera sources, what they are and which run: the server pulls a stream (HTTP
//! MJPEG, RTSP, or a local file, looped) through an ffmpeg subprocess and feeds it into a
//! room as a camera socket would (`transport::source` does the feeding). Set with
//! `--source ROOM=URL` or `POST /rooms/{room}/source`, removed with
//! `DELETE /rooms/{room}/source` or `DELETE /rooms/{room}`.
//!
//! | module | job |
//! | --- | --- |
//! | `spec` | [`SourceSpec`]: a URL checked and sorted into kinds; `ROOM=URL` pairs |
//! | `redact` | [`SourceUrl`](redact::SourceUrl) and [`RedactedUrl`]: the URL for ffmpeg alone, its secrets hidden everywhere else (ffmpeg's words too) |
//! | `policy` | [`SourcePolicy`]: what a posted source may read (`source_allow`); [`TlsCheck`]: how https:// and rtsps:// sources check certificates |
//! | `ffmpeg` | [`Ffmpeg`]: the subprocess, its arguments (JPEG out, or an RTSP camera's H.264 copied), killed and reaped on every path |
//! | `probe` | which codec an RTSP camera sends (`ffprobe`), to pass H.264 through |
//! | `registry` | [`Sources`]: the running sources by room; stopping them |

mod ffmpeg;
mod policy;
mod probe;
mod redact;
mod registry;
mod spec;

pub(crate) use ffmpeg::{find as find_ffmpeg, Ffmpeg, Output};
pub(crate) use policy::{SourcePolicy, TlsCheck};
pub(crate) use probe::{find_ffprobe, video_codec};
pub(crate) use redact::RedactedUrl;
pub(crate) use registry::{Running, Sources};
pub(crate) use spec::{parse_pair, SourceKind, SourceSpec, SpecError};
