//! `livepose.serve` (blocking, Ctrl-C stops it) and `livepose.serve_background` (a `Server`
//! handle with `stop()`): livepose-ws's [`BackgroundServer`], on a thread of its own.

use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;

use livepose_ws::{BackgroundServer, ServeOptions, ServerConfig};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::{self, Kind};
use crate::options;

/// A running server: its address, and the way to stop it.
#[pyclass(module = "livepose", frozen)]
pub struct Server {
    address: SocketAddr,
    inner: Mutex<BackgroundServer>,
}

/// The server's configuration from `serve`'s arguments: `host` and `port` (which may be
/// given by position) and the keyword options, parsed by livepose-ws's `ServeOptions`.
fn config(
    host: Option<&Bound<'_, PyAny>>,
    port: Option<&Bound<'_, PyAny>>,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<ServerConfig> {
    let named = [("host", host), ("port", port)];
    let options: ServeOptions = options::parse(options, &named)?;
    options.config().map_err(errors::options)
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
/// Keyword options are livepose-ws's `ServeOptions` (`models_dir`, `model`, `hands`,
/// `workers`, `token`, `admin_token`, `room_token`, `view_token`, `allowed_origins`, `max_connections`,
/// `max_connections_per_ip`, `max_fps`, `max_message_bytes`, `max_pixels`,
/// `heartbeat_secs`, `demo`), with their defaults.
#[pyfunction]
#[pyo3(signature = (host = None, port = None, **options))]
pub fn serve(
    py: Python<'_>,
    host: Option<&Bound<'_, PyAny>>,
    port: Option<&Bound<'_, PyAny>>,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<()> {
    let server = start(py, config(host, port, options)?)?;
    loop {
        py.detach(|| std::thread::sleep(Duration::from_millis(100)));
        if let Err(interrupt) = py.check_signals() {
            server.stop(py);
            return Err(interrupt);
        }
    }
}

/// Starts the server in the background and returns its `Server` handle (also a context
/// manager that stops it). `port=0` picks a free port. Options as for [`serve`].
#[pyfunction]
#[pyo3(signature = (host = None, port = None, **options))]
pub fn serve_background(
    py: Python<'_>,
    host: Option<&Bound<'_, PyAny>>,
    port: Option<&Bound<'_, PyAny>>,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<Server> {
    start(py, config(host, port, options)?)
}
