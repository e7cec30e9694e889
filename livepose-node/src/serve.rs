//! `await serve(options)`: the livepose server (livepose-ws's `BackgroundServer`) from
//! Node, resolving to a handle whose `close()` stops it.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use livepose_ws::{BackgroundServer, ServeOptions, ServerConfig};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::errors::{self, Code, Outcome};
use crate::options;

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
    type Output = Outcome<BackgroundServer>;
    type JsValue = ServerHandle;

    fn compute(&mut self) -> Result<Outcome<BackgroundServer>> {
        Ok(match self.0.take() {
            Some(config) => {
                BackgroundServer::start(config).map_err(|e| errors::error(Code::Server, e))
            }
            None => Err(errors::error(
                Code::Server,
                "the server was already started",
            )),
        })
    }

    fn resolve(&mut self, env: Env, server: Outcome<BackgroundServer>) -> Result<ServerHandle> {
        let server = server.map_err(|f| f.throw(&env))?;
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

/// Starts the server; resolves to its handle once it listens. Options (every one
/// optional; defaults and checks are livepose-ws's `ServeOptions`): `host`, `port`,
/// `modelsDir`, `model`, `hands`, `workers`, `token`, `adminToken`, `roomToken`, `viewToken`,
/// `allowedOrigins`, `maxConnections`, `maxConnectionsPerIp`, `maxFps`, `maxMessageBytes`,
/// `maxPixels`, `heartbeatSecs`, `demo`. Throws `ERR_LIVEPOSE_CONFIG` for a bad option.
#[napi(
    ts_args_type = "options?: ServeOptions",
    ts_return_type = "Promise<ServerHandle>"
)]
pub fn serve(env: Env, options: Option<Unknown<'_>>) -> Result<AsyncTask<Start>> {
    let config = options::parse::<ServeOptions>(&env, options)
        .and_then(|o| o.config().map_err(errors::options))
        .map_err(|f| f.throw(&env))?;
    Ok(AsyncTask::new(Start(Some(config))))
}
