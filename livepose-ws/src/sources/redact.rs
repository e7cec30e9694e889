//! A source URL's secrets, hidden wherever the URL or ffmpeg's words about it leave the
//! server. A [`SourceUrl`] keeps the URL as given for ffmpeg alone
//! ([`SourceUrl::for_ffmpeg`]); everything else sees its [`RedactedUrl`] (`source_lost`,
//! `source_back`, `/sources`, the room's figures, the answer to `POST /rooms/{room}/source`,
//! the log), and ffmpeg's standard error is passed through [`SourceUrl::hide`] as it is read.
//!
//! What is hidden (as `***`):
//! - the password of the user info, `scheme://user:PASSWORD@host`: everything from the first
//!   `:` of the user info to the last `@` before the first `/` after `://`, so a password
//!   may hold `#`, `?`, `@` and `:` as people type them;
//! - the value of every query parameter whose name holds, ignoring case, one of [`SECRET_WORDS`]
//!   (`pwd=`, `password=`, `passwd=`, `token=`, `access_token=`, `key=`, `apikey=`,
//!   `auth=`, `secret=`, `sig=`, `signature=`, `credentials=`, ...).
//!
//! In ffmpeg's words every occurrence of those secrets is hidden too, as written and
//! percent-decoded, wherever ffmpeg prints them (whole URLs, or a part such as a host it
//! could not parse).

use std::fmt;

/// Query parameters whose name holds one of these (ignoring case) have their value hidden.
pub(crate) const SECRET_WORDS: &[&str] = &[
    "pass", "pwd", "token", "key", "auth", "secret", "sig", "cred",
];

/// A source URL with its secrets hidden: the only form in which a source URL leaves the
/// server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RedactedUrl(String);

impl RedactedUrl {
    /// The text.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RedactedUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl serde::Serialize for RedactedUrl {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// A source URL as given, and what may be shown of it.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct SourceUrl {
    given: String,
    redacted: RedactedUrl,
    /// The secrets as written and percent-decoded, longest first.
    secrets: Vec<String>,
}

impl fmt::Debug for SourceUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SourceUrl").field(&self.redacted.0).finish()
    }
}

impl SourceUrl {
    /// Finds the secrets of `url`.
    pub(crate) fn new(url: &str) -> Self {
        let mut redacted = String::with_capacity(url.len());
        let mut secrets = Vec::new();
        let (head, rest) = match url.split_once("://") {
            Some((scheme, rest)) => (format!("{scheme}://"), rest),
            None => (String::new(), url),
        };
        redacted.push_str(&head);
        // The user info ends at the last `@` before the first `/`.
        let authority_end = rest.find('/').unwrap_or(rest.len());
        let after_user = match rest[..authority_end]
            .rfind('@')
            .filter(|_| !head.is_empty())
        {
            Some(at) => {
                let user_info = &rest[..at];
                match user_info.split_once(':') {
                    Some((user, password)) => {
                        secrets.push(password.to_string());
                        redacted.push_str(user);
                        redacted.push_str(":***@");
                    }
                    None => {
                        redacted.push_str(user_info);
                        redacted.push('@');
                    }
                }
                &rest[at + 1..]
            }
            None => rest,
        };
        match after_user.split_once('?') {
            Some((path, query)) => {
                redacted.push_str(path);
                redacted.push('?');
                let (query, fragment) = match query.split_once('#') {
                    Some((query, fragment)) => (query, Some(fragment)),
                    None => (query, None),
                };
                let pairs: Vec<String> = query
                    .split('&')
                    .map(|pair| match pair.split_once('=') {
                        Some((name, value)) if is_secret_name(name) && !value.is_empty() => {
                            secrets.push(value.to_string());
                            format!("{name}=***")
                        }
                        _ => pair.to_string(),
                    })
                    .collect();
                redacted.push_str(&pairs.join("&"));
                if let Some(fragment) = fragment {
                    redacted.push('#');
                    redacted.push_str(fragment);
                }
            }
            None => redacted.push_str(after_user),
        }
        let decoded: Vec<String> = secrets.iter().map(|s| percent_decoded(s)).collect();
        secrets.extend(decoded);
        secrets.retain(|s| !s.is_empty());
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        SourceUrl {
            given: url.to_string(),
            redacted: RedactedUrl(redacted),
            secrets,
        }
    }

    /// The URL as given: for ffmpeg's arguments, and nothing else.
    pub(crate) fn for_ffmpeg(&self) -> &str {
        &self.given
    }

    /// What may be shown of it.
    pub(crate) fn redacted(&self) -> &RedactedUrl {
        &self.redacted
    }

    /// `text` (ffmpeg's words) with the URL shown redacted and every secret hidden.
    pub(crate) fn hide(&self, text: &str) -> String {
        let mut text = text.replace(&self.given, &self.redacted.0);
        for secret in &self.secrets {
            if text.contains(secret.as_str()) {
                text = text.replace(secret.as_str(), "***");
            }
        }
        text
    }
}

/// Whether a query parameter of this name carries a secret.
fn is_secret_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    SECRET_WORDS.iter().any(|word| name.contains(word))
}

/// `%XX` escapes decoded (as UTF-8, lossily); `+` stays.
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).and_then(|b| hex(*b)),
            bytes.get(i + 2).and_then(|b| hex(*b)),
        ) {
            (b'%', Some(high), Some(low)) => {
                out.push((high * 16 + low) as u8);
                i += 3;
            }
            (byte, _, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(url: &str) -> String {
        SourceUrl::new(url).redacted().to_string()
    }

    #[test]
    fn passwords_are_hidden_whatever_they_hold() {
        assert_eq!(
            shown("rtsp://admin:secret@cam:554/live?x=@"),
            "rtsp://admin:***@cam:554/live?x=@"
        );
        assert_eq!(
            shown("rtsp://admin:s3#cret@cam/x"),
            "rtsp://admin:***@cam/x"
        );
        assert_eq!(
            shown("rtsp://admin:p@ss:w0rd@cam/x"),
            "rtsp://admin:***@cam/x"
        );
        assert_eq!(shown("rtsp://admin:a?b@cam"), "rtsp://admin:***@cam");
        assert_eq!(shown("rtsp://admin@cam/live"), "rtsp://admin@cam/live");
        assert_eq!(shown("http://cam:81/stream"), "http://cam:81/stream");
        assert_eq!(shown("/videos/a.mp4"), "/videos/a.mp4");
        assert_eq!(shown("/videos/me@home:x.mp4"), "/videos/me@home:x.mp4");
    }

    #[test]
    fn secret_query_values_are_hidden_and_the_rest_kept() {
        assert_eq!(
            shown("rtsp://cam/x?user=admin&pwd=s3cret"),
            "rtsp://cam/x?user=admin&pwd=***"
        );
        assert_eq!(
            shown("http://cam/mjpg?channel=1&Password=a&access_token=b&apikey=c&auth=d#top"),
            "http://cam/mjpg?channel=1&Password=***&access_token=***&apikey=***&auth=***#top"
        );
        assert_eq!(shown("http://cam/?token="), "http://cam/?token=");
        assert_eq!(
            shown("http://u:p@cam/a?sig=x&subtype=0"),
            "http://u:***@cam/a?sig=***&subtype=0"
        );
    }

    #[test]
    fn ffmpegs_words_lose_every_secret() {
        let url = SourceUrl::new("rtsp://admin:s3%23cret@127.0.0.1:1/x?pwd=abc");
        let said = "rtsp://admin:s3%23cret@127.0.0.1:1/x?pwd=abc: Connection refused";
        assert_eq!(
            url.hide(said),
            "rtsp://admin:***@127.0.0.1:1/x?pwd=***: Connection refused"
        );
        // A part of the URL, and the password decoded.
        let hidden = url.hide("[tcp] admin:s3#cret@127.0.0.1 host lookup; abc");
        assert!(
            !hidden.contains("s3#cret") && !hidden.contains("abc"),
            "{hidden}"
        );
        assert_eq!(
            url.for_ffmpeg(),
            "rtsp://admin:s3%23cret@127.0.0.1:1/x?pwd=abc"
        );
        assert!(!format!("{url:?}").contains("s3"), "{url:?}");
    }
}
