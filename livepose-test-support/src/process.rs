//! A cluster on loopback for tests and benches: a real `nats-server` with JetStream, and
//! `livepose serve` nodes joined to it, each a process of its own that can be killed,
//! stopped with SIGTERM, or restarted on the same port and store.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

/// The nodes' admin token (`/streams`, `/sources`, `/metrics`: closed on a server with a
/// room token but no admin token).
pub const ADMIN_TOKEN: &str = "adm";

/// A free TCP port on loopback (bound, noted, released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until something listens on `port`.
fn wait_listening(port: u16, what: &str) {
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{what} never listened on {port}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The `nats-server` command (Debian installs it in /usr/sbin, which a user's PATH may lack).
fn nats_server() -> Command {
    let on_path = Command::new("nats-server")
        .arg("--version")
        .output()
        .is_ok();
    Command::new(if on_path {
        "nats-server"
    } else {
        "/usr/sbin/nats-server"
    })
}

/// A `nats-server -js` on loopback (or one without JetStream), killed on drop.
pub struct Nats {
    pub port: u16,
    store: PathBuf,
    child: Option<Child>,
    jetstream: bool,
}

impl Nats {
    /// Starts one on a free port with a fresh JetStream store.
    pub fn start() -> Nats {
        Nats::start_with(true)
    }

    /// Starts one on a free port without JetStream (no `-js`): what livepose must refuse.
    pub fn start_without_jetstream() -> Nats {
        Nats::start_with(false)
    }

    fn start_with(jetstream: bool) -> Nats {
        let store = std::env::temp_dir().join(format!(
            "livepose-nats-{}-{}",
            std::process::id(),
            free_port()
        ));
        let mut nats = Nats {
            port: free_port(),
            store,
            child: None,
            jetstream,
        };
        nats.restart();
        nats
    }

    /// `nats://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Kills it (SIGKILL).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port and store.
    pub fn restart(&mut self) {
        self.kill();
        let mut command = nats_server();
        if self.jetstream {
            command.arg("-js").arg("-sd").arg(&self.store);
        }
        let child = command
            .args(["-a", "127.0.0.1", "-p", &self.port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server (Debian package nats-server; scripts/setup.sh installs it)");
        self.child = Some(child);
        wait_listening(self.port, "nats-server");
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.store);
    }
}

/// A `livepose serve` node in the cluster (room token `cam`), killed on drop.
pub struct Node {
    pub id: String,
    pub port: u16,
    child: Child,
    /// Its standard output, drained by a thread (a closed pipe would kill it on its next
    /// line).
    _drain: std::thread::JoinHandle<()>,
}

/// `livepose serve --port PORT --models MODELS FLAGS…` at `livepose` (log at `warn`, to
/// nowhere): the process, its standard output, and the first line it printed (the address,
/// once it listens; empty if it exited first).
pub fn serve(
    livepose: impl AsRef<OsStr>,
    port: u16,
    models: &Path,
    flags: &[&str],
) -> (Child, BufReader<ChildStdout>, String) {
    let mut child = Command::new(livepose)
        .arg("serve")
        .args(["--port", &port.to_string(), "--models"])
        .arg(models)
        .args(flags)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    (child, stdout, first)
}

impl Node {
    /// Starts node `id` of the `livepose` command at `livepose` (a test's
    /// `env!("CARGO_BIN_EXE_livepose")`) joined to `nats`, with `extra` flags.
    pub fn start(
        livepose: impl AsRef<OsStr>,
        id: &str,
        nats: &str,
        models: &Path,
        extra: &[&str],
    ) -> Node {
        let port = free_port();
        let mut flags = vec!["--room-token", "cam", "--admin-token", ADMIN_TOKEN];
        flags.extend([
            "--no-demo",
            "--workers",
            "1",
            "--nats",
            nats,
            "--node-id",
            id,
        ]);
        flags.extend(extra);
        let (child, mut stdout, first) = serve(livepose, port, models, &flags);
        assert!(first.contains("ws://"), "node {id} said {first:?}");
        let drain = std::thread::spawn(move || {
            let _ = std::io::copy(&mut stdout, &mut std::io::sink());
        });
        Node {
            id: id.to_string(),
            port,
            child,
            _drain: drain,
        }
    }

    /// `ws://127.0.0.1:PORT{path}`.
    pub fn ws(&self, path: &str) -> String {
        format!("ws://127.0.0.1:{}{path}", self.port)
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills it (SIGKILL: no goodbye).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
    }

    /// Waits for it to exit; its status.
    pub fn wait(&mut self) -> std::process::ExitStatus {
        self.child.wait().unwrap()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The machine's load averages (`/proc/loadavg`: 1, 5 and 15 minutes), for benches to print:
/// other work on the machine skews every figure they measure.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}
