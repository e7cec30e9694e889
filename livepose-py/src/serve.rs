//! `livepose.serve` (blocking, Ctrl-C stops it) and `livepose.serve_background` (a `Server`
//! handle with `stop()`): the livepose-ws server, on a tokio runtime of its own thread.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::{mpsc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use livepose_core::wire::control::ModelKind;
use livepose_ws::ServerConfig;
use pyo3::prelude::*;
use tokio::sync::oneshot;

use crate::errors::{self, Kind};
use crate::pipeline::option;

/// A running server: its address, and the way to stop it.
#[pyclass(module = "livepose", frozen)]
pub struct Server {
    address: SocketAddr,
    stop: Mutex<Option<oneshot::Sender<()>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
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
fn start(config: ServerConfig) -> PyResult<Server> {
    let (ready_tx, ready_rx) = mpsc::channel();
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("livepose-serve".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(e) => {
                    let _ = ready_tx.send(Err(format!("cannot start the async runtime: {e}")));
                    return;
                }
            };
            runtime.block_on(async move {
                match livepose_ws::Server::start(config).await {
                    Ok(server) => {
                        let _ = ready_tx.send(Ok(server.local_addr()));
                        let _ = stop_rx.await;
                        server.shutdown().await;
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.to_string()));
                    }
                }
            });
        })
        .map_err(|e| {
            errors::error(
                Kind::Server,
                format!("cannot start the server thread: {e}"),
                None,
            )
        })?;
    let address = Python::attach(|py| py.detach(move || ready_rx.recv()))
        .map_err(|_| {
            errors::error(
                Kind::Server,
                "the server thread ended before it listened",
                None,
            )
        })?
        .map_err(|e| errors::error(Kind::Server, e, None))?;
    Ok(Server {
        address,
        stop: Mutex::new(Some(stop_tx)),
        thread: Mutex::new(Some(thread)),
    })
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
        self.stop
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
    }
    /// Closes every stream (close frames to clients), drains the workers and waits for the
    /// server to end. Calling it again does nothing.
    fn stop(&self, py: Python<'_>) {
        if let Some(stop) = self.stop.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = stop.send(());
        }
        let thread = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(thread) = thread {
            py.detach(|| {
                let _ = thread.join();
            });
        }
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
    let server = start(config(
        host, port, models_dir, model, hands, workers, token, demo,
    )?)?;
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
    host: &str,
    port: u16,
    models_dir: Option<PathBuf>,
    model: &str,
    hands: bool,
    workers: Option<usize>,
    token: Option<String>,
    demo: bool,
) -> PyResult<Server> {
    start(config(
        host, port, models_dir, model, hands, workers, token, demo,
    )?)
}
