//! The `livepose serve` child process: start, wait for `/health`, read its CPU time and
//! resident memory from `/proc`, ask it over HTTP; killed when dropped (also on panic).

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Flags added to every server's command line (`--serve-arg`).
pub static EXTRA_ARGS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();

/// A running server; dropping it kills the process.
pub struct ServerProcess {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its standard error (the server's log).
    pub log: PathBuf,
}

impl ServerProcess {
    /// `livepose serve --port 0 --no-demo --models DIR EXTRA... [EXTRA_ARGS]`, its log in `log_name`
    /// under the target folder; returns once it printed its address.
    pub fn start(log_name: &str, extra: &[&str]) -> ServerProcess {
        let log = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(log_name);
        let mut child = Command::new(binary())
            .args(["serve", "--host", "127.0.0.1", "--port", "0", "--no-demo"])
            .arg("--models")
            .arg(livepose_test_support::data::models())
            .args(extra)
            .args(EXTRA_ARGS.get().into_iter().flatten())
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("create the server log"))
            .spawn()
            .expect("start `livepose serve`");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        // Reads the address line, then drains stdout until the process ends.
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.strip_prefix("livepose: ws://") {
                    let addr = rest.split('/').next().unwrap_or_default().to_string();
                    let _ = tx.send(addr);
                }
            }
        });
        let mut server = ServerProcess {
            child,
            addr: "127.0.0.1:0".parse().unwrap(),
            log,
        };
        let addr = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| {
                panic!(
                    "`livepose serve` printed no address within 60 s; its log: {}",
                    server.log.display()
                )
            });
        server.addr = addr.parse().expect("the printed address");
        server
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory, MB (10^6 bytes).
    pub fn rss_mb(&self) -> f64 {
        rss_mb(self.pid())
    }

    /// User plus system CPU time so far, seconds.
    pub fn cpu_secs(&self) -> f64 {
        cpu_secs(self.pid())
    }

    /// Waits until `GET /health` answers 200 (at most 60 s).
    pub async fn wait_healthy(&self) {
        for _ in 0..600 {
            if let Some((200, _)) = http_get(self.addr, "/health").await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no /health within 60 s; log: {}", self.log.display());
    }

    /// Number of streams listed by `GET /streams` (`None` if it did not answer).
    pub async fn stream_count(&self) -> Option<usize> {
        let (_, body) = http_get(self.addr, "/streams").await?;
        let json = &body[body.find('{')?..=body.rfind('}')?];
        let value: serde_json::Value = serde_json::from_str(json).ok()?;
        Some(value["streams"].as_array()?.len())
    }

    /// The frame and result counters of `GET /metrics`, as `name value` pairs.
    pub async fn metrics(&self) -> String {
        let Some((_, text)) = http_get(self.addr, "/metrics").await else {
            return "no answer".into();
        };
        let wanted = [
            "livepose_frames_received_total",
            "livepose_frames_dropped_total",
            "livepose_frames_rate_limited_total",
            "livepose_inferences_total",
            "livepose_results_total",
        ];
        text.lines()
            .filter(|l| wanted.iter().any(|w| l.starts_with(&format!("{w} "))))
            .map(|l| l.trim_start_matches("livepose_").to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Lines of the log at level WARN or ERROR.
    pub fn log_warnings(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("WARN") || l.contains("ERROR"))
            .map(str::to_string)
            .collect()
    }

    /// Prints the log's warnings and errors (the first few), and where the log is.
    pub fn report_log(&self) {
        let warnings = self.log_warnings();
        println!(
            "server log {}: {} WARN/ERROR lines",
            self.log.display(),
            warnings.len()
        );
        for line in warnings.iter().take(5) {
            println!("  {line}");
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `livepose` command to start: `LIVEPOSE_SERVER_BIN` if set (another build, or a copy
/// kept apart from a target folder other checkouts build into), else the one Cargo built.
pub fn binary() -> PathBuf {
    std::env::var_os("LIVEPOSE_SERVER_BIN")
        .filter(|v| !v.is_empty())
        .map_or_else(|| env!("CARGO_BIN_EXE_livepose").into(), PathBuf::from)
}

/// `getconf CLK_TCK` (100 if it cannot be read).
pub fn clock_ticks() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// utime + stime of a process (`/proc/PID/stat`, or `self`), seconds.
pub fn cpu_secs_of(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The command name (field 2) may hold spaces: count the fields after its `)`.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // Fields 14 and 15 of the line; the state (field 3) is the first after `)`.
    (ticks(11) + ticks(12)) as f64 / clock_ticks()
}

fn cpu_secs(pid: u32) -> f64 {
    cpu_secs_of(&pid.to_string())
}

/// Busy and total CPU time of the whole machine so far, in clock ticks (`/proc/stat`).
pub fn machine_ticks() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let fields: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is counted in user).
    let total: u64 = fields.iter().take(8).sum();
    let idle = fields.get(3).copied().unwrap_or(0) + fields.get(4).copied().unwrap_or(0);
    (total - idle, total)
}

/// VmRSS of a process, MB (10^6 bytes); 0 if it is gone.
pub fn rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |kib| kib * 1024.0 / 1e6)
}

/// Bytes waiting in the send and receive queues of the loopback TCP socket from
/// `local_port` to `remote_port` (`/proc/net/tcp`), if it is listed.
pub fn tcp_queues(local_port: u16, remote_port: u16) -> Option<(u64, u64)> {
    let table = std::fs::read_to_string("/proc/net/tcp").ok()?;
    let port = |addr: &str| u16::from_str_radix(addr.rsplit(':').next()?, 16).ok();
    table.lines().skip(1).find_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        if port(f.get(1)?)? != local_port || port(f.get(2)?)? != remote_port {
            return None;
        }
        let (tx, rx) = f.get(4)?.split_once(':')?;
        Some((
            u64::from_str_radix(tx, 16).ok()?,
            u64::from_str_radix(rx, 16).ok()?,
        ))
    })
}

/// `GET path` with `Connection: close`: the status code and the body (5 s at most).
pub async fn http_get(addr: SocketAddr, path: &str) -> Option<(u16, String)> {
    let request = async {
        let mut socket = tokio::net::TcpStream::connect(addr).await.ok()?;
        let head = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        socket.write_all(head.as_bytes()).await.ok()?;
        let mut text = String::new();
        socket.read_to_string(&mut text).await.ok()?;
        let status = text.split_whitespace().nth(1)?.parse().ok()?;
        let body = text
            .split_once("\r\n\r\n")
            .map_or("", |(_, b)| b)
            .to_string();
        Some((status, body))
    };
    tokio::time::timeout(Duration::from_secs(5), request)
        .await
        .ok()
        .flatten()
}
