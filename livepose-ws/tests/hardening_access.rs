//! Issue 23, item 8: what is open by default. The rule: `/streams`, `/sources` and
//! `/metrics` need the admin token (`admin_token`, else the server's `token`); a server
//! with no token of any kind leaves them open, and one with only a room or view token
//! refuses them. CORS never lets a page of an unlisted origin make credentialed requests:
//! without `allowed_origins` any origin may read (`*`) without credentials; with it, only
//! the listed origins, with credentials.

mod support;

use support::hardening;

use hardening::{options, request, start};
use livepose_ws::{Server, ServerConfig};

const ADMIN_ROUTES: [&str; 3] = ["/streams", "/sources", "/metrics"];

fn config() -> ServerConfig {
    ServerConfig::default()
        .addr("127.0.0.1:0".parse().unwrap())
        .workers(1)
        .demo(false)
}

/// The status of each admin route, with `bearer` as a bearer token if given.
async fn statuses(server: &Server, bearer: Option<&str>) -> Vec<(&'static str, u16)> {
    let header = bearer.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = header
        .iter()
        .map(|h| ("Authorization", h.as_str()))
        .collect();
    let mut out = Vec::new();
    for route in ADMIN_ROUTES {
        out.push((route, request(server, "GET", route, &headers, b"").await.0));
    }
    out
}

fn all(routes: &[(&'static str, u16)], ok: impl Fn(u16) -> bool) -> bool {
    routes.iter().all(|(_, s)| ok(*s))
}

#[tokio::test]
async fn a_view_token_alone_does_not_open_streams_sources_and_metrics() {
    let server = start(config().rooms("cam", Some("view".into()))).await;
    let open = statuses(&server, None).await;
    let with_view = statuses(&server, Some("view")).await;
    let with_room = statuses(&server, Some("cam")).await;
    println!("no token: {open:?}; view token: {with_view:?}; room token: {with_room:?}");
    for (who, got) in [
        ("no token", &open),
        ("the view token", &with_view),
        ("the room token", &with_room),
    ] {
        assert!(
            all(got, |s| s == 401 || s == 403),
            "with --view-token and no --token/--admin-token, {who} got {got:?}"
        );
    }
}

#[tokio::test]
async fn the_admin_token_opens_them_and_defaults_to_the_token() {
    let server = start(options(serde_json::json!({
        "room_token": "cam", "view_token": "view", "admin_token": "adm"
    })))
    .await;
    let none = statuses(&server, None).await;
    let admin = statuses(&server, Some("adm")).await;
    assert!(all(&none, |s| s == 401), "{none:?}");
    assert!(all(&admin, |s| s == 200), "{admin:?}");
    // Without an admin token, the server's token opens them.
    let server = start(config().token("tok").rooms("cam", Some("view".into()))).await;
    let token = statuses(&server, Some("tok")).await;
    let view = statuses(&server, Some("view")).await;
    assert!(all(&token, |s| s == 200), "{token:?}");
    assert!(all(&view, |s| s == 401), "{view:?}");
}

/// Not a regression: the rule's other half, as today.
#[tokio::test]
async fn a_server_with_no_token_at_all_leaves_them_open() {
    let server = start(config()).await;
    let open = statuses(&server, None).await;
    assert!(all(&open, |s| s == 200), "{open:?}");
}

/// The CORS headers `route` answers a request from `origin` with (a simple GET and a
/// preflight).
async fn cors(server: &Server, method: &str, route: &str, origin: &str) -> String {
    let mut headers = vec![("Origin", origin)];
    if method == "OPTIONS" {
        headers.push(("Access-Control-Request-Method", "GET"));
        headers.push(("Access-Control-Request-Headers", "authorization"));
    }
    let (_, head, _) = request(server, method, route, &headers, b"").await;
    head.lines()
        .filter(|l| l.starts_with("access-control-"))
        .collect::<Vec<_>>()
        .join("; ")
}

const ROUTES: [&str; 4] = [
    "/streams",
    "/health",
    "/rooms",
    "/socket.io/?EIO=4&transport=polling",
];

#[tokio::test]
async fn cors_never_reflects_an_unlisted_origin_with_credentials() {
    let server = start(config().rooms("cam", None)).await;
    let evil = "https://evil.example";
    let mut wrong = Vec::new();
    for route in ROUTES {
        for method in ["GET", "OPTIONS"] {
            let got = cors(&server, method, route, evil).await;
            let credentials = got.contains("access-control-allow-credentials: true");
            let reflected = got.contains(&format!("access-control-allow-origin: {evil}"));
            if credentials || reflected {
                wrong.push(format!("{method} {route}: {got}"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "no --allowed-origin: an unlisted origin is reflected or given credentials: {wrong:#?}"
    );
}

/// Not a regression: listed origins keep credentials, unlisted ones get nothing.
#[tokio::test]
async fn cors_with_listed_origins_allows_only_those() {
    let app = "https://app.example";
    let server = start(config().allowed_origins([app.to_string()])).await;
    let route = "/socket.io/?EIO=4&transport=polling";
    let listed = cors(&server, "GET", route, app).await;
    assert!(
        listed.contains(&format!("access-control-allow-origin: {app}"))
            && listed.contains("access-control-allow-credentials: true"),
        "{listed}"
    );
    let other = cors(&server, "GET", route, "https://evil.example").await;
    assert!(!other.contains("evil.example"), "{other}");
}
