//! The `livepose` command: serve pose estimation over WebSocket, stream a clip to a server,
//! run the pipeline offline over a clip, convert MediaPipe's `.tflite` models to ONNX, and
//! fetch those models.
//!
//! ```text
//! livepose models fetch                      # MediaPipe's models into ~/.cache/livepose/models
//! livepose serve                             # ws://127.0.0.1:8765/ws, demo at http://127.0.0.1:8765/
//! livepose stream clip.mp4 --out results.jsonl
//! livepose run clip.mp4 --out poses.jsonl --render rendered.mp4
//! livepose convert model.tflite
//! ```
//!
//! Installed with `cargo install --path .` (feature `cli`, on by default).

mod convert;
mod h264;
mod models;
mod options;
mod run;
mod serve;
mod stream;
mod video;

use clap::{Parser, Subcommand};

/// Real-time pose estimation (MediaPipe BlazePose on ONNX Runtime), streamed over WebSocket.
#[derive(Parser)]
#[command(name = "livepose", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve pose estimation over WebSocket (`/ws`), with the browser demo at `/`.
    Serve(Box<serve::Args>),
    /// Stream a clip or a folder of JPEGs to a server at its frame rate, printing live
    /// latency and drops.
    Stream(stream::Args),
    /// Estimate poses on every frame of a clip, a folder of images, or `-` (video on stdin).
    Run(run::Args),
    /// Convert MediaPipe `.tflite` models to ONNX.
    Convert(convert::Args),
    /// MediaPipe's model files.
    #[command(subcommand)]
    Models(models::Command),
}

/// Errors of the subcommands: printed as `livepose: {error}`, exit status 1.
pub(crate) type Error = Box<dyn std::error::Error>;

fn main() {
    let result = match Cli::parse().command {
        Command::Serve(args) => serve::main(*args),
        Command::Stream(args) => stream::main(args),
        Command::Run(args) => run::main(args),
        Command::Convert(args) => convert::main(args),
        Command::Models(command) => models::main(command),
    };
    if let Err(e) = result {
        eprintln!("livepose: {e}");
        std::process::exit(1);
    }
}
