//! A client in a few lines: sends the JPEG files given on the command line to a livepose
//! server with `livepose::client::Client` (latest-wins: a frame not yet sent is replaced
//! by a newer one) and prints each result's poses. `livepose stream` does this for a clip
//! at its frame rate, with live statistics.
//!
//! ```text
//! livepose serve &
//! cargo run --release --example stream -- frame1.jpg frame2.jpg
//! ```

use std::time::{SystemTime, UNIX_EPOCH};

use livepose::client::{Client, ClientConfig, Event};
use livepose::core::wire::control::ServerMessage;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files: Vec<String> = std::env::args().skip(1).collect();
    let mut client = Client::start(ClientConfig::new("ws://127.0.0.1:8765/ws"));
    let mut answered = 0;
    for file in &files {
        let now_us = SystemTime::now().duration_since(UNIX_EPOCH)?.as_micros() as i64;
        client.send_jpeg(std::fs::read(file)?, now_us);
        // Wait for this frame's result before sending the next (closed loop).
        while let Some(event) = client.next_event().await {
            match event {
                Event::Result(result) => {
                    let people = result.poses.len();
                    println!("{file}: sequence {}, {people} people", result.sequence);
                    answered += 1;
                    break;
                }
                Event::Control(ServerMessage::Error(e)) => {
                    println!("{file}: refused: {} ({})", e.message, e.code);
                    break;
                }
                Event::Disconnected(why) => println!("disconnected ({why}), reconnecting"),
                _ => {}
            }
        }
    }
    println!("{answered} of {} frames answered", files.len());
    Ok(())
}
