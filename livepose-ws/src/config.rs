//! Server configuration, with a builder.

use std::net::SocketAddr;
use std::path::PathBuf;

use livepose_core::image::DecoderConfig;
use livepose_core::inference::PipelineBuilder;
use livepose_core::wire::control::ModelKind;

/// How the server runs. Defaults: `127.0.0.1:8765`, one worker per core, the lite model, no
/// hands, models from `LIVEPOSE_MODELS` or `./models`, 16 MiB messages, 40 megapixel images.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address to listen on (port 0: any free port).
    pub addr: SocketAddr,
    /// Inference worker threads.
    pub workers: usize,
    /// Default landmark model (a client may ask for the other).
    pub model: ModelKind,
    /// Load the hand models (clients may then ask for hands).
    pub hands: bool,
    /// Models directory (`None`: `LIVEPOSE_MODELS`, else `./models`).
    pub models_dir: Option<PathBuf>,
    /// Largest WebSocket message accepted.
    pub max_message_bytes: usize,
    /// Largest image accepted, in pixels (checked from the image header before decoding).
    pub max_pixels: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            addr: SocketAddr::from(([127, 0, 0, 1], 8765)),
            workers: std::thread::available_parallelism().map_or(1, |n| n.get()),
            model: ModelKind::Lite,
            hands: false,
            models_dir: None,
            max_message_bytes: 16 << 20,
            max_pixels: 40_000_000,
        }
    }
}

impl ServerConfig {
    /// Listen on `addr`.
    pub fn addr(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }
    /// Number of inference workers (at least 1).
    pub fn workers(mut self, n: usize) -> Self {
        self.workers = n.max(1);
        self
    }
    /// Default landmark model.
    pub fn model(mut self, model: ModelKind) -> Self {
        self.model = model;
        self
    }
    /// Load the hand models.
    pub fn hands(mut self, on: bool) -> Self {
        self.hands = on;
        self
    }
    /// Models directory.
    pub fn models_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.models_dir = Some(dir.into());
        self
    }
    /// Largest message.
    pub fn max_message_bytes(mut self, bytes: usize) -> Self {
        self.max_message_bytes = bytes;
        self
    }

    /// The pipeline builder workers and streams are made from.
    pub fn pipeline_builder(&self) -> PipelineBuilder {
        let mut builder = PipelineBuilder::default()
            .model(self.model)
            .hands(self.hands)
            .decoder(DecoderConfig::default().max_pixels(self.max_pixels));
        if let Some(dir) = &self.models_dir {
            builder = builder.models_dir(dir);
        }
        builder
    }
}
