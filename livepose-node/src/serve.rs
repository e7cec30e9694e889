//! `await serve(options)`: the livepose server (livepose-ws's `BackgroundServer`) from
//! Node, resolving to a handle whose `close()` stops it.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use livepose_core::wire::control::ModelKind;
use livepose_ws::{BackgroundServer, ServerConfig};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::errors::{self, Code};
use crate::pipeline::option;

/// Server options; every field is optional.
#[napi(object)]
pub struct ServeOptions {
    /// Address to listen on (default `"127.0.0.1"`).
    pub host: Option<String>,
    /// Port (default 8765; 0 picks a free one).
    pub port: Option<u32>,
    /// Folder of the `.onnx` models (default: `LIVEPOSE_MODELS`).
    pub models_dir: Option<String>,
    /// Default landmark model, `"lite"` or `"full"`.
    pub model: Option<String>,
    /// Load the hand models.
    pub hands: Option<bool>,
    /// Inference worker threads (default: one per core).
    pub workers: Option<u32>,
    /// Require this bearer token.
    pub token: Option<String>,
    /// Serve the browser demo at `/` (default `true`).
    pub demo: Option<bool>,
}

fn config(o: ServeOptions) -> Result<ServerConfig> {
    let host = o.host.unwrap_or_else(|| "127.0.0.1".into());
    let ip: IpAddr = host.parse().map_err(|e| {
        errors::error(
            Code::Config,
            format!("host {host:?} is not an IP address: {e}"),
        )
    })?;
    let port = u16::try_from(o.port.unwrap_or(8765))
        .map_err(|_| errors::error(Code::Config, "port must be below 65536"))?;
    let mut config = ServerConfig::default()
        .addr(SocketAddr::new(ip, port))
        .model(option(o.model.as_deref(), ModelKind::Lite)?)
        .hands(o.hands.unwrap_or(false))
        .demo(o.demo.unwrap_or(true));
    if let Some(dir) = o.models_dir {
        config = config.models_dir(dir);
    }
    if let Some(n) = o.workers {
        config = config.workers(n as usize);
    }
    if let Some(token) = o.token {
        config = config.token(token);
    }
    Ok(config)
}

/// A running server.
#[napi]
pub struct ServerHandle {
    addr: SocketAddr,
    inner: Arc<Mutex<BackgroundServer>>,
}

#[napi]
impl ServerHandle {
    /// `"host:port"` the server listens on.
    #[napi(getter)]
    pub fn address(&self) -> String {
        self.addr.to_string()
    }
    /// The port (useful with `port: 0`).
    #[napi(getter)]
    pub fn port(&self) -> u32 {
        u32::from(self.addr.port())
    }
    /// The pose stream endpoint, `ws://host:port/ws`.
    #[napi(getter)]
    pub fn url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }
    /// Closes every stream, drains the workers and resolves when the server has ended.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn close(&self) -> AsyncTask<Close> {
        AsyncTask::new(Close(self.inner.clone()))
    }
}

/// Starting the server, off the JavaScript thread.
pub struct Start(Option<ServerConfig>);

impl Task for Start {
    type Output = BackgroundServer;
    type JsValue = ServerHandle;

    fn compute(&mut self) -> Result<BackgroundServer> {
        let config = self
            .0
            .take()
            .ok_or_else(|| errors::error(Code::Server, "the server was already started"))?;
        BackgroundServer::start(config).map_err(|e| errors::error(Code::Server, e))
    }

    fn resolve(&mut self, _env: Env, server: BackgroundServer) -> Result<ServerHandle> {
        Ok(ServerHandle {
            addr: server.local_addr(),
            inner: Arc::new(Mutex::new(server)),
        })
    }
}

/// Stopping the server, off the JavaScript thread.
pub struct Close(Arc<Mutex<BackgroundServer>>);

impl Task for Close {
    type Output = ();
    type JsValue = ();

    fn compute(&mut self) -> Result<()> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).stop();
        Ok(())
    }

    fn resolve(&mut self, _env: Env, _output: ()) -> Result<()> {
        Ok(())
    }
}

/// Starts the server; resolves to its handle once it listens.
#[napi(ts_return_type = "Promise<ServerHandle>")]
pub fn serve(options: Option<ServeOptions>) -> Result<AsyncTask<Start>> {
    let o = options.unwrap_or(ServeOptions {
        host: None,
        port: None,
        models_dir: None,
        model: None,
        hands: None,
        workers: None,
        token: None,
        demo: None,
    });
    Ok(AsyncTask::new(Start(Some(config(o)?))))
}
