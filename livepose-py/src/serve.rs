//! `livepose.serve` (blocking, Ctrl-C stops it) and `livepose.serve_background` (a `Server`
//! handle with `stop()`): livepose-ws's [`BackgroundServer`], on a thread of its own.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use livepose_core::wire::control::ModelKind;
use livepose_ws::{BackgroundServer, ServerConfig};
use pyo3::prelude::*;

use crate::errors::{self, Kind};
use crate::pipeline::option;

/// A running server: its address, and the way to stop it.
#[pyclass(module = "livepose", frozen)]
pub struct Server {
    address: SocketAddr,
    inner: Mutex<BackgroundServer>,
}

#[allow(clippy::too_many_arguments)]
fn config(
    host: &str,
    port: u16,
    models_dir: Option<PathBuf>,
    model: &str,
    hands: bool,
    workers: Option<usize>,
    token: Option<String>,
    demo: bool,
) -> PyResult<ServerConfig> {
    let ip: IpAddr = host.parse().map_err(|e| {
        errors::error(
            Kind::Config,
            format!("host {host:?} is not an IP address: {e}"),
            None,
        )
    })?;
    let mut config = ServerConfig::default()
        .addr(SocketAddr::new(ip, port))
        .model(option::<ModelKind>(model)?)
        .hands(hands)
        .demo(demo);
    if let Some(dir) = models_dir {
        config = config.models_dir(dir);
    }
    if let Some(n) = workers {
        config = config.workers(n);
    }
    if let Some(token) = token {
        config = config.token(token);
    }
    Ok(config)
}

/// Starts the server on a thread of its own; returns once it listens (or failed to start).
fn start(py: Python<'_>, config: ServerConfig) -> PyResult<Server> {
    let server = py
        .detach(|| BackgroundServer::start(config))
        .map_err(|e| errors::error(Kind::Server, e, None))?;
    Ok(Server {
        address: server.local_addr(),
        inner: Mutex::new(server),
    })
}

impl Server {
    fn inner(&self) -> std::sync::MutexGuard<'_, BackgroundServer> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[pymethods]
impl Server {
    /// `"host:port"` the server listens on.
    #[getter]
    fn address(&self) -> String {
        self.address.to_string()
    }
    /// The port (useful with `port=0`).
    #[getter]
    fn port(&self) -> u16 {
        self.address.port()
    }
    /// The pose stream endpoint, `ws://host:port/ws`.
    #[getter]
    fn url(&self) -> String {
        format!("ws://{}/ws", self.address)
    }
    /// Whether `stop()` has not been called yet.
    #[getter]
    fn running(&self) -> bool {
        self.inner().is_running()
    }
    /// Closes every stream (close frames to clients), drains the workers and waits for the
    /// server to end. Calling it again does nothing.
    fn stop(&self, py: Python<'_>) {
        py.detach(|| self.inner().stop());
    }
    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }
    fn __exit__(
        &self,
        py: Python<'_>,
        _exc_type: Option<&Bound<'_, PyAny>>,
        _exc: Option<&Bound<'_, PyAny>>,
        _tb: Option<&Bound<'_, PyAny>>,
    ) -> bool {
        self.stop(py);
        false
    }
    fn __repr__(&self) -> String {
        format!(
            "Server(url={:?}, running={})",
            self.url(),
            if self.running() { "True" } else { "False" }
        )
    }
}

/// Runs the server until Ctrl-C (KeyboardInterrupt), then stops it cleanly and re-raises.
#[pyfunction]
#[pyo3(signature = (host = "127.0.0.1", port = 8765, *, models_dir = None, model = "lite", hands = false, workers = None, token = None, demo = true))]
#[allow(clippy::too_many_arguments)]
pub fn serve(
    py: Python<'_>,
    host: &str,
    port: u16,
    models_dir: Option<PathBuf>,
    model: &str,
    hands: bool,
    workers: Option<usize>,
    token: Option<String>,
    demo: bool,
) -> PyResult<()> {
    let config = config(host, port, models_dir, model, hands, workers, token, demo)?;
    let server = start(py, config)?;
    loop {
        py.detach(|| std::thread::sleep(Duration::from_millis(100)));
        if let Err(interrupt) = py.check_signals() {
            server.stop(py);
            return Err(interrupt);
        }
    }
}

/// Starts the server in the background and returns its `Server` handle (also a context
/// manager that stops it). `port=0` picks a free port.
#[pyfunction]
#[pyo3(signature = (host = "127.0.0.1", port = 8765, *, models_dir = None, model = "lite", hands = false, workers = None, token = None, demo = true))]
#[allow(clippy::too_many_arguments)]
pub fn serve_background(
    py: Python<'_>,
    host: &str,
    port: u16,
    models_dir: Option<PathBuf>,
    model: &str,
    hands: bool,
    workers: Option<usize>,
    token: Option<String>,
    demo: bool,
) -> PyResult<Server> {
    let config = config(host, port, models_dir, model, hands, workers, token, demo)?;
    start(py, config)
}
