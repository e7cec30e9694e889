//! Who may do what, by token: one type per kind of token ([`StreamToken`], [`ViewToken`],
//! [`RoomToken`], [`AdminToken`]), each an axum extractor whose rejection is a [`Refusal`] (counted in
//! `livepose_rejected_connections_total`), so a route that needs one names it among its
//! arguments; Socket.IO's connect middleware and `join` check the same types with
//! [`TokenKind::check`]. A kind says which configured token it needs, or that what it guards
//! is off; [`TokenKind::check`] does the rest, once for every transport.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};

use super::refusal::Refusal;
use crate::config::ServerConfig;
use crate::state::AppState;

/// The tokens a request presents, and how its transport would have it send one.
#[derive(Debug)]
pub(crate) struct Presented<'a> {
    bearer: Option<&'a str>,
    query: Option<String>,
    /// A transport's own field: Socket.IO's handshake `auth.token`, a `join`'s `token`.
    field: Option<&'a str>,
    /// Where to send it, for the refusal's message.
    how: &'static str,
}

impl<'a> Presented<'a> {
    /// An HTTP request's: `Authorization: Bearer …` and `?token=`.
    pub(crate) fn http(headers: &'a HeaderMap, query: Option<&str>) -> Self {
        Presented {
            bearer: headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer ")),
            query: query.and_then(|query| {
                form_urlencoded::parse(query.as_bytes())
                    .filter(|(name, _)| name == "token")
                    .map(|(_, value)| value.into_owned())
                    .last()
            }),
            field: None,
            how: ": send `Authorization: Bearer <token>` or `?token=<token>`",
        }
    }

    /// A Socket.IO handshake's: its `auth` object's `token`, then as over HTTP.
    pub(crate) fn handshake(
        headers: &'a HeaderMap,
        query: Option<&str>,
        auth: Option<&'a str>,
    ) -> Self {
        Presented {
            field: auth,
            how: ": send it in the handshake's `auth` ({token: …}), as `?token=` or as \
                  `Authorization: Bearer`",
            ..Presented::http(headers, query)
        }
    }

    /// A Socket.IO `join`'s `token`.
    pub(crate) fn join(token: Option<&'a str>) -> Self {
        Presented {
            bearer: None,
            query: None,
            field: token,
            how: " (`token` in `join`)",
        }
    }

    fn has(&self, token: &str) -> bool {
        self.bearer == Some(token)
            || self.query.as_deref() == Some(token)
            || self.field == Some(token)
    }
}

/// Rooms are off on this server: no room token is configured.
const ROOMS_OFF: Closed = Closed {
    code: "rooms_off",
    why: "rooms are off: the server has no room token configured",
};

/// What a kind of token guards is closed on this server, with the refusal's code and
/// words.
#[derive(Debug)]
pub(crate) struct Closed {
    code: &'static str,
    why: &'static str,
}

/// A kind of token.
pub(crate) trait TokenKind: Default {
    /// What a request without it is told, before where to send it.
    const NEEDED: &'static str;

    /// The token this kind asks for on a server so configured (`Ok(None)`: none), or why
    /// what it guards is off.
    fn expected(config: &ServerConfig) -> Result<Option<&str>, Closed>;

    /// Whether `presented` may pass (not counted: the extractor and Socket.IO's connect
    /// middleware count their refusals).
    fn check(config: &ServerConfig, presented: &Presented<'_>) -> Result<Self, Refusal> {
        match Self::expected(config) {
            Err(closed) => Err(Refusal::new(StatusCode::FORBIDDEN, closed.code, closed.why)),
            Ok(Some(token)) if !presented.has(token) => Err(Refusal::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                format!("{}{}", Self::NEEDED, presented.how),
            )),
            Ok(_) => Ok(Self::default()),
        }
    }
}

/// The server's token (`--token`), where a server has one: a pose stream (`/ws`,
/// `/estimate_pose`, a Socket.IO connection).
#[derive(Debug, Default)]
pub(crate) struct StreamToken;

impl TokenKind for StreamToken {
    const NEEDED: &'static str = "a token is required";

    fn expected(config: &ServerConfig) -> Result<Option<&str>, Closed> {
        Ok(config.token.as_deref())
    }
}

/// Watching rooms (a view socket, a Socket.IO viewer, `GET /rooms`, MJPEG): rooms on, and
/// the view token, or the server's token when no view token is set (a server with a token
/// never shows its rooms to anyone).
#[derive(Debug, Default)]
pub(crate) struct ViewToken;

impl TokenKind for ViewToken {
    const NEEDED: &'static str =
        "viewing rooms needs the view token (or the server's token when no view token is set)";

    fn expected(config: &ServerConfig) -> Result<Option<&str>, Closed> {
        if config.room_token.is_none() {
            return Err(ROOMS_OFF);
        }
        Ok(config.view_token.as_deref().or(config.token.as_deref()))
    }
}

/// Publishing to a room (a camera socket or Socket.IO camera, a room's source or its
/// removal, removing a room): rooms on, and the room token.
#[derive(Debug, Default)]
pub(crate) struct RoomToken;

impl TokenKind for RoomToken {
    const NEEDED: &'static str = "publishing to a room needs the room token";

    fn expected(config: &ServerConfig) -> Result<Option<&str>, Closed> {
        match &config.room_token {
            Some(token) => Ok(Some(token)),
            None => Err(ROOMS_OFF),
        }
    }
}

/// What the server holds about its clients and cameras (`/streams`, `/sources` with the
/// cameras' addresses, `/metrics`): the admin token, else the server's token; a server
/// with neither but with room or view tokens closes them (its owner meant to guard it); one
/// with no token at all leaves them open.
#[derive(Debug, Default)]
pub(crate) struct AdminToken;

impl TokenKind for AdminToken {
    const NEEDED: &'static str = "this needs the admin token (or the server's token when no \
                                  admin token is set)";

    fn expected(config: &ServerConfig) -> Result<Option<&str>, Closed> {
        match config.admin_token.as_deref().or(config.token.as_deref()) {
            Some(token) => Ok(Some(token)),
            None if config.room_token.is_some() || config.view_token.is_some() => Err(Closed {
                code: "unauthorized",
                why: "closed: this server has room tokens but no admin token (--admin-token) \
                      or token (--token)",
            }),
            None => Ok(None),
        }
    }
}

/// Each kind of token as an extractor.
macro_rules! token_extractor {
    ($($kind:ty),*) => {$(
        impl FromRequestParts<Arc<AppState>> for $kind {
            type Rejection = Refusal;

            async fn from_request_parts(
                parts: &mut Parts,
                state: &Arc<AppState>,
            ) -> Result<Self, Refusal> {
                let presented = Presented::http(&parts.headers, parts.uri.query());
                Self::check(&state.config, &presented).map_err(|r| r.counted(&state.metrics))
            }
        }
    )*};
}

token_extractor!(StreamToken, ViewToken, RoomToken, AdminToken);

#[cfg(test)]
mod tests {
    use super::*;

    fn config(token: Option<&str>, room: Option<&str>, view: Option<&str>) -> ServerConfig {
        let mut config = ServerConfig::default();
        if let Some(token) = token {
            config = config.token(token);
        }
        if let Some(room) = room {
            config = config.rooms(room, view.map(String::from));
        }
        config
    }

    #[test]
    fn each_kind_asks_for_its_token_wherever_it_is_sent() {
        let headers = HeaderMap::new();
        let none = Presented::http(&headers, None);
        let open = config(None, None, None);
        assert!(StreamToken::check(&open, &none).is_ok());
        let off = RoomToken::check(&open, &none).unwrap_err();
        assert_eq!((off.status, off.code), (StatusCode::FORBIDDEN, "rooms_off"));
        assert!(ViewToken::check(&open, &none).is_err());

        let guarded = config(Some("s"), Some("r"), None);
        let refused = StreamToken::check(&guarded, &none).unwrap_err();
        assert_eq!(
            (refused.status, refused.code),
            (StatusCode::UNAUTHORIZED, "unauthorized")
        );
        assert!(
            refused.why.starts_with("a token is required: send"),
            "{}",
            refused.why
        );
        assert!(
            StreamToken::check(&guarded, &Presented::http(&headers, Some("a=1&token=s"))).is_ok()
        );
        let mut bearer = HeaderMap::new();
        bearer.insert(header::AUTHORIZATION, "Bearer s".parse().unwrap());
        assert!(StreamToken::check(&guarded, &Presented::http(&bearer, None)).is_ok());
        assert!(
            StreamToken::check(&guarded, &Presented::handshake(&headers, None, Some("s"))).is_ok()
        );
        // Viewing falls back to the server's token when no view token is set.
        assert!(ViewToken::check(&guarded, &Presented::join(Some("s"))).is_ok());
        assert!(ViewToken::check(&guarded, &Presented::join(Some("r"))).is_err());
        let viewed = config(Some("s"), Some("r"), Some("v"));
        assert!(ViewToken::check(&viewed, &Presented::join(Some("v"))).is_ok());
        assert!(ViewToken::check(&viewed, &Presented::join(Some("s"))).is_err());
        assert!(RoomToken::check(&viewed, &Presented::join(Some("r"))).is_ok());
        let wrong = RoomToken::check(&viewed, &Presented::join(Some("v"))).unwrap_err();
        assert!(wrong.why.ends_with("(`token` in `join`)"), "{}", wrong.why);
    }
}
