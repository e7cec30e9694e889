//! What a source posted over HTTP (`POST /rooms/{room}/source`) may read: with no
//! `source_allow` list, anything but the server's own files; with one, only the listed
//! schemes (`rtsp:`, `file:`, …) and hosts (`cam.local`, `10.0.0.7`). The server's own
//! `--source` list is the operator's and is not checked. How https:// and rtsps:// sources
//! check the camera's certificate ([`TlsCheck`]) is also the operator's choice.

use std::path::PathBuf;

/// Who may make the server fetch what.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SourcePolicy {
    /// Listed schemes, lowercase, without the colon.
    schemes: Vec<String>,
    /// Listed hosts, lowercase.
    hosts: Vec<String>,
}

/// Why a posted source is refused (403).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PolicyError {
    #[error(
        "a posted source may not read the server's files (list `file:` in source_allow, \
         --source-allow file:, to allow it)"
    )]
    LocalFile,
    #[error("source {0} is not in the server's source_allow list (--source-allow)")]
    NotListed(String),
}

impl SourcePolicy {
    /// From the `source_allow` entries: `scheme:` or a host name or address.
    pub(crate) fn new(allow: &[String]) -> Self {
        let mut policy = SourcePolicy::default();
        for entry in allow {
            let entry = entry.trim().to_ascii_lowercase();
            match entry.strip_suffix(':') {
                Some(scheme) => policy.schemes.push(scheme.to_string()),
                None => policy.hosts.push(entry),
            }
        }
        policy
    }

    /// Whether a source posted with `url` may be started. Checked before anything is
    /// read, so that a refusal tells nothing about the server (not even whether a file
    /// exists).
    pub(crate) fn admits_posted(&self, url: &str) -> Result<(), PolicyError> {
        let (scheme, host) = scheme_and_host(url.trim());
        let listed =
            self.schemes.contains(&scheme) || host.as_ref().is_some_and(|h| self.hosts.contains(h));
        match (scheme.as_str(), listed) {
            (_, true) => Ok(()),
            ("file", false) => Err(PolicyError::LocalFile),
            (_, false) if self.schemes.is_empty() && self.hosts.is_empty() => Ok(()),
            (_, false) => {
                let host = host.unwrap_or_default();
                Err(PolicyError::NotListed(format!("{scheme}://{host}")))
            }
        }
    }
}

/// A URL's scheme (lowercase; `file` for a plain path) and host (lowercase, without user
/// information, port or IPv6 brackets).
fn scheme_and_host(url: &str) -> (String, Option<String>) {
    let Some((scheme, rest)) = url.split_once("://") else {
        return ("file".to_string(), None);
    };
    let scheme = scheme.to_ascii_lowercase();
    if scheme == "file" {
        return (scheme, None);
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host_port.split(':').next().unwrap_or_default(),
    };
    (scheme, Some(host.to_ascii_lowercase()))
}

/// How an `https://` or `rtsps://` source checks the camera's certificate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) enum TlsCheck {
    /// Against the system's certificate authorities.
    #[default]
    Verify,
    /// Against the certificate authorities in this PEM file.
    VerifyWith(PathBuf),
    /// Not at all (`source_tls_insecure`).
    Off,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_list_everything_but_local_files() {
        let open = SourcePolicy::new(&[]);
        assert_eq!(open.admits_posted("http://cam:81/stream"), Ok(()));
        assert_eq!(open.admits_posted("rtsp://u:p@10.0.0.7/live"), Ok(()));
        for file in ["/etc/passwd", "file:///etc/passwd", "FILE:///x", "clip.mp4"] {
            assert_eq!(
                open.admits_posted(file),
                Err(PolicyError::LocalFile),
                "{file}"
            );
        }
    }

    #[test]
    fn with_a_list_only_its_schemes_and_hosts() {
        let allow = ["127.0.0.1", "RTSP:", "file:", "::1"].map(String::from);
        let policy = SourcePolicy::new(&allow);
        assert_eq!(policy.admits_posted("http://127.0.0.1:8080/"), Ok(()));
        assert_eq!(policy.admits_posted("http://user:pw@127.0.0.1/x"), Ok(()));
        assert_eq!(policy.admits_posted("http://[::1]:81/"), Ok(()));
        assert_eq!(policy.admits_posted("rtsp://127.0.0.3/live"), Ok(()));
        assert_eq!(policy.admits_posted("/tmp/clip.mp4"), Ok(()));
        assert!(policy.admits_posted("http://127.0.0.2:8080/").is_err());
        assert!(policy.admits_posted("https://localhost/").is_err());
        // A host hidden in the user information does not pass for the real one.
        assert!(policy
            .admits_posted("http://127.0.0.1@evil.example/")
            .is_err());
    }
}
